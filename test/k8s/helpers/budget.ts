// Reads the resource budget of docs/deploy.md (the tables between `<!-- budget:... -->` markers)
// and does the arithmetic on Kubernetes quantities, so that the test can compare the document
// with the manifests and the Helm values and redo its sums.
import { isDict, type Dict } from './manifests.js'

/** Millicores for CPU, MiB for memory: the units the document's totals are written in. */
export interface Resources {
  cpuRequest: number
  cpuLimit: number | undefined
  memoryRequest: number
  memoryLimit: number | undefined
}

export interface BudgetRow extends Resources {
  component: string
  namespace: string
  /** Pods in the whole cluster, or `per node` for a DaemonSet. */
  count: number | 'per node'
  source: string
}

export interface Capacity {
  nodes: number
  cpuPerNode: number
  memoryPerNode: number
}

const BINARY: Record<string, number> = { Ki: 1 / 1024, Mi: 1, Gi: 1024, Ti: 1024 * 1024 }
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12 }

/** A CPU quantity ("250m", "1", "0.5") in millicores. */
export function millicores(quantity: unknown): number {
  const text = String(quantity).trim()
  const match = /^(\d+(?:\.\d+)?)(m?)$/.exec(text)
  if (match === null) {
    throw new Error(`not a CPU quantity: ${text}`)
  }

  const value = Number(match[1])

  return match[2] === 'm' ? value : value * 1000
}

/** A memory quantity ("64Mi", "1Gi", "800M") in MiB. */
export function mebibytes(quantity: unknown): number {
  const text = String(quantity).trim()
  const match = /^(\d+(?:\.\d+)?)([KMGT]i|[kMGT])?$/.exec(text)
  if (match === null) {
    throw new Error(`not a memory quantity: ${text}`)
  }

  const value = Number(match[1])
  const unit = match[2]
  if (unit === undefined) {
    return value / (1024 * 1024)
  }

  const binary = BINARY[unit]

  return binary !== undefined ? value * binary : (value * (DECIMAL[unit] ?? 1)) / (1024 * 1024)
}

/** The resources of a container spec (or of a Helm `resources:` value). */
export function containerResources(resources: unknown): Resources {
  const requests = isDict(resources) && isDict(resources.requests) ? resources.requests : {}
  const limits: Dict = isDict(resources) && isDict(resources.limits) ? resources.limits : {}

  return {
    cpuRequest: millicores(requests.cpu ?? 0),
    cpuLimit: limits.cpu === undefined ? undefined : millicores(limits.cpu),
    memoryRequest: mebibytes(requests.memory ?? 0),
    memoryLimit: limits.memory === undefined ? undefined : mebibytes(limits.memory),
  }
}

/** The markdown table between `<!-- budget:NAME:begin -->` and `<!-- budget:NAME:end -->`. */
export function markedTable(markdown: string, name: string): string[][] {
  const begin = markdown.indexOf(`<!-- budget:${name}:begin -->`)
  const end = markdown.indexOf(`<!-- budget:${name}:end -->`)
  if (begin < 0 || end < begin) {
    throw new Error(`docs/deploy.md has no budget:${name} table`)
  }

  const lines = markdown
    .slice(begin, end)
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
  // Drop the header and the |---| line.
  return lines.slice(2).map((line) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((cell) => cell.trim().replace(/`/g, '')),
  )
}

function optional(cell: string, parse: (q: string) => number): number | undefined {
  return cell === '—' || cell === '-' || cell === '' ? undefined : parse(cell)
}

export function budgetRows(markdown: string): BudgetRow[] {
  return markedTable(markdown, 'pods').map((cells) => {
    if (cells.length !== 8) {
      throw new Error(`budget row needs 8 cells: ${cells.join(' | ')}`)
    }

    const [component, namespace, count, cpuReq, cpuLim, memReq, memLim, source] = cells as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ]

    return {
      component,
      namespace,
      count: count === 'per node' ? 'per node' : Number(count),
      cpuRequest: millicores(cpuReq),
      cpuLimit: optional(cpuLim, millicores),
      memoryRequest: mebibytes(memReq),
      memoryLimit: optional(memLim, mebibytes),
      source,
    }
  })
}

export function capacity(markdown: string): Capacity {
  const [row] = markedTable(markdown, 'capacity')
  if (row === undefined || row.length < 4) {
    throw new Error('budget:capacity needs one row: size | nodes | cpu per node | memory per node')
  }

  return {
    nodes: Number(row[1]),
    cpuPerNode: millicores(row[2]),
    memoryPerNode: mebibytes(row[3]),
  }
}

export interface Totals {
  requests: { cpu: number; memory: number }
  limits: { cpu: number; memory: number }
}

/** Sums over the cluster when it has `nodes` nodes (DaemonSet rows count once per node). */
export function totals(rows: BudgetRow[], nodes: number): Totals {
  const sum = { requests: { cpu: 0, memory: 0 }, limits: { cpu: 0, memory: 0 } }
  for (const row of rows) {
    const pods = row.count === 'per node' ? nodes : row.count
    sum.requests.cpu += pods * row.cpuRequest
    sum.requests.memory += pods * row.memoryRequest
    sum.limits.cpu += pods * (row.cpuLimit ?? 0)
    sum.limits.memory += pods * (row.memoryLimit ?? 0)
  }

  return sum
}

export function formatCpu(value: number): string {
  return `${Math.round(value)}m`
}

export function formatMemory(value: number): string {
  return `${Math.round(value)}Mi`
}

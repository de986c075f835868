// Keeps the resource budget of docs/deploy.md honest: every row that comes from our files must
// carry the numbers of the rendered DOKS manifests or of the Helm values files, every pod we
// deploy must have a row, the totals must be the sums of the rows, and the whole must fit in the
// allocatable resources of the nodes that are left when one node drains.
import t, { type Test } from 'tap'

import {
  budgetRows,
  capacity,
  containerResources,
  formatCpu,
  formatMemory,
  markedTable,
  mebibytes,
  millicores,
  totals,
  type BudgetRow,
  type Resources,
} from './helpers/budget.js'
import { dig, dicts, podTemplates, readText, readYamlFile, render } from './helpers/manifests.js'

const DOC = readText('docs/deploy.md')
const ROWS = budgetRows(DOC)
const CAPACITY = capacity(DOC)
const DOKS = render('overlays/doks')
const VALUES = 'k8s/kustomize/overlays/doks'

interface Expected extends Resources {
  count: number
}

function byName(containers: unknown, name: string): unknown {
  return dicts(containers).find((c) => c.name === name)
}

/** What our own files say, keyed by the budget row's component name. */
function expectedRows(): Map<string, { source: string; expected: Expected }> {
  const rows = new Map<string, { source: string; expected: Expected }>()
  const add = (component: string, source: string, resources: unknown, count: number) =>
    rows.set(component, { source, expected: { ...containerResources(resources), count } })

  for (const pod of podTemplates(DOKS)) {
    const name = pod.workload.metadata.name
    add(name, 'doks overlay', pod.containers[0]?.resources, pod.replicas)
    const a = pod.annotations
    if (a['dapr.io/enabled'] === 'true') {
      const sidecar = {
        requests: {
          cpu: a['dapr.io/sidecar-cpu-request'],
          memory: a['dapr.io/sidecar-memory-request'],
        },
        limits: { cpu: a['dapr.io/sidecar-cpu-limit'], memory: a['dapr.io/sidecar-memory-limit'] },
      }
      add(`${name} daprd`, 'doks overlay', sidecar, pod.replicas)
    }
  }

  const redpanda = readYamlFile(`${VALUES}/redpanda-values.yaml`)
  const brokers = Number(dig(redpanda, 'statefulset', 'replicas'))
  const redpandaContainers = dig(redpanda, 'statefulset', 'podTemplate', 'spec', 'containers')
  const postInstall = dig(redpanda, 'post_install_job', 'podTemplate', 'spec', 'containers')
  add('redpanda', 'redpanda-values.yaml', dig(redpanda, 'resources'), brokers)
  add(
    'redpanda sidecar',
    'redpanda-values.yaml',
    dig(byName(redpandaContainers, 'sidecar'), 'resources'),
    brokers,
  )
  add(
    'redpanda post-install job',
    'redpanda-values.yaml',
    dig(byName(postInstall, 'post-install'), 'resources'),
    1,
  )

  const dapr = readYamlFile(`${VALUES}/dapr-values.yaml`)
  // Non-HA: one replica each, except the scheduler, which the chart always runs as three.
  const daprServices: [string, string, number][] = [
    ['dapr-operator', 'dapr_operator', 1],
    ['dapr-sidecar-injector', 'dapr_sidecar_injector', 1],
    ['dapr-sentry', 'dapr_sentry', 1],
    ['dapr-placement-server', 'dapr_placement', 1],
    ['dapr-scheduler-server', 'dapr_scheduler', 3],
  ]
  for (const [component, key, count] of daprServices) {
    add(component, 'dapr-values.yaml', dig(dapr, key, 'resources'), count)
  }

  const ingress = readYamlFile(`${VALUES}/ingress-nginx-values.yaml`)
  const controllers = Number(dig(ingress, 'controller', 'replicaCount'))
  add(
    'ingress-nginx-controller',
    'ingress-nginx-values.yaml',
    dig(ingress, 'controller', 'resources'),
    controllers,
  )

  return rows
}

void t.test(
  'docs/deploy.md budget should carry the numbers of the manifests and the Helm values',
  (t) => {
    const expected = expectedRows()
    const documented = new Map(ROWS.map((row) => [row.component, row]))
    for (const [component, { source, expected: want }] of expected) {
      const row = documented.get(component)
      if (row === undefined) {
        t.fail(`docs/deploy.md budget has no row for ${component}`)
        continue
      }

      t.equal(row.source, source, `${component} source`)
      t.same(
        { count: row.count, ...pick(row) },
        { count: want.count, ...pick(want) },
        `${component} matches ${source}`,
      )
    }
    for (const row of ROWS) {
      if (!expected.has(row.component)) {
        t.equal(
          row.source,
          'estimate',
          `${row.component} is neither deployed by us nor marked as an estimate`,
        )
      }
    }
    t.end()
  },
)

function pick(r: Resources): Resources {
  return {
    cpuRequest: r.cpuRequest,
    cpuLimit: r.cpuLimit,
    memoryRequest: r.memoryRequest,
    memoryLimit: r.memoryLimit,
  }
}

function documentedTotal(label: string): { cpu: number; memory: number } {
  const row = markedTable(DOC, 'totals').find((cells) => cells[0]?.startsWith(label))
  if (row === undefined) {
    throw new Error(`budget:totals has no row starting "${label}"`)
  }

  return { cpu: millicores(row[1]), memory: mebibytes(row[2]) }
}

function sameTotal(t: Test, label: string, actual: { cpu: number; memory: number }) {
  const written = documentedTotal(label)
  t.equal(formatCpu(written.cpu), formatCpu(actual.cpu), `${label}: CPU`)
  t.equal(formatMemory(written.memory), formatMemory(actual.memory), `${label}: memory`)
}

void t.test('docs/deploy.md budget totals should be the sums of its rows', (t) => {
  const all = totals(ROWS, CAPACITY.nodes)
  const drained = totals(ROWS, CAPACITY.nodes - 1)
  sameTotal(t, 'Requests, all nodes', all.requests)
  sameTotal(t, 'Requests, one node drained', drained.requests)
  sameTotal(t, 'Limits, all nodes', all.limits)
  sameTotal(t, 'Allocatable, all nodes', {
    cpu: CAPACITY.nodes * CAPACITY.cpuPerNode,
    memory: CAPACITY.nodes * CAPACITY.memoryPerNode,
  })
  sameTotal(t, 'Allocatable, one node drained', {
    cpu: (CAPACITY.nodes - 1) * CAPACITY.cpuPerNode,
    memory: (CAPACITY.nodes - 1) * CAPACITY.memoryPerNode,
  })
  t.end()
})

function podRequests(rows: BudgetRow[], component: string): Resources {
  // A pod is its app row plus, with Dapr, its sidecar row; Redpanda plus its sidecar.
  const parts = rows.filter(
    (r) =>
      r.component === component ||
      r.component === `${component} daprd` ||
      r.component === `${component} sidecar`,
  )

  return parts.reduce<Resources>(
    (sum, r) => ({
      cpuRequest: sum.cpuRequest + r.cpuRequest,
      cpuLimit: undefined,
      memoryRequest: sum.memoryRequest + r.memoryRequest,
      memoryLimit: undefined,
    }),
    { cpuRequest: 0, cpuLimit: undefined, memoryRequest: 0, memoryLimit: undefined },
  )
}

void t.test('docs/deploy.md budget should fit the cluster with one node drained', (t) => {
  const left = CAPACITY.nodes - 1
  const drained = totals(ROWS, left)
  t.ok(drained.requests.cpu <= left * CAPACITY.cpuPerNode, 'CPU requests fit the nodes left')
  t.ok(
    drained.requests.memory <= left * CAPACITY.memoryPerNode,
    'memory requests fit the nodes left',
  )
  // Sums are not enough: the largest pod must also fit one node beside that node's agents.
  const perNode = ROWS.filter((r) => r.count === 'per node')
  const agents = totals(perNode, 1).requests
  for (const row of ROWS.filter(
    (r) => r.count !== 'per node' && !/ (daprd|sidecar)$/.test(r.component),
  )) {
    const pod = podRequests(ROWS, row.component)
    t.ok(pod.cpuRequest + agents.cpu <= CAPACITY.cpuPerNode, `${row.component} fits a node (CPU)`)
    t.ok(
      pod.memoryRequest + agents.memory <= CAPACITY.memoryPerNode,
      `${row.component} fits a node (memory)`,
    )
  }
  t.end()
})

void t.test('redpanda-values.yaml should size one broker as the research document says', (t) => {
  const values = readYamlFile(`${VALUES}/redpanda-values.yaml`)
  t.equal(dig(values, 'statefulset', 'replicas'), 1)
  t.equal(millicores(dig(values, 'resources', 'requests', 'cpu')), 500)
  t.equal(mebibytes(dig(values, 'resources', 'requests', 'memory')), 1024)
  t.equal(mebibytes(dig(values, 'resources', 'limits', 'memory')), 1024)
  t.equal(dig(values, 'storage', 'persistentVolume', 'size'), '10Gi')
  t.equal(dig(values, 'storage', 'persistentVolume', 'storageClass'), 'do-block-storage')
  t.equal(
    dig(values, 'tls', 'enabled'),
    false,
    'in-cluster only: the Dapr component sets disableTls',
  )
  t.end()
})

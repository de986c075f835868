// Renders the kustomize trees under k8s/ with the machine's kubectl and gives typed access to
// the objects and their pod templates. Used by test/k8s/*.test.ts only.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { parse, parseAllDocuments } from 'yaml'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..')
export const KUSTOMIZE_DIR = path.join(REPO_ROOT, 'k8s/kustomize')

export type Dict = Record<string, unknown>

export interface K8sObject extends Dict {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Dict; annotations?: Dict }
}

/** A pod template and the workload that owns it. */
export interface PodTemplate {
  workload: K8sObject
  /** Pods the workload keeps running (Job: its parallelism). */
  replicas: number
  /** False for Jobs: they finish, so they have no probes and no disruption budget. */
  longRunning: boolean
  annotations: Dict
  labels: Dict
  spec: Dict
  containers: Dict[]
  initContainers: Dict[]
}

export function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Follows a path of keys and indexes; undefined as soon as a step is missing. */
export function dig(value: unknown, ...keys: (string | number)[]): unknown {
  let current = value
  for (const key of keys) {
    if (typeof key === 'number') {
      current = Array.isArray(current) ? (current as unknown[])[key] : undefined
    } else {
      current = isDict(current) ? current[key] : undefined
    }
  }

  return current
}

export function dicts(value: unknown): Dict[] {
  return Array.isArray(value) ? value.filter(isDict) : []
}

export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []
}

/** `kubectl kustomize <dir>`, parsed. Throws with kubectl's own message when it fails. */
export function render(relativeDir: string): K8sObject[] {
  const dir = path.join(KUSTOMIZE_DIR, relativeDir)
  let output: string
  try {
    output = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: 'pipe' })
  } catch (error) {
    const stderr = isDict(error) && typeof error.stderr === 'string' ? error.stderr : ''

    throw new Error(`kubectl kustomize ${relativeDir} failed: ${stderr}`, { cause: error })
  }

  return parseAllDocuments(output).map((doc, index) => {
    const object: unknown = doc.toJS()
    if (!isK8sObject(object)) {
      throw new Error(`document ${index} of ${relativeDir} is not a Kubernetes object`)
    }

    return object
  })
}

function isK8sObject(value: unknown): value is K8sObject {
  return (
    isDict(value) &&
    typeof value.apiVersion === 'string' &&
    typeof value.kind === 'string' &&
    typeof dig(value, 'metadata', 'name') === 'string'
  )
}

export function readYamlFile(relativePath: string): unknown {
  return parse(readFileSync(path.join(REPO_ROOT, relativePath), 'utf8'))
}

export function readText(relativePath: string): string {
  return readFileSync(path.join(REPO_ROOT, relativePath), 'utf8')
}

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind)
}

export function named(objects: K8sObject[], kind: string, name: string): K8sObject {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name)
  if (found === undefined) {
    throw new Error(`no ${kind} named ${name}`)
  }

  return found
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job'])

export function podTemplates(objects: K8sObject[]): PodTemplate[] {
  return objects
    .filter((o) => WORKLOAD_KINDS.has(o.kind))
    .map((workload) => {
      const template = dig(workload, 'spec', 'template')
      const spec = dig(template, 'spec')
      const isJob = workload.kind === 'Job'
      const count = isJob ? dig(workload, 'spec', 'parallelism') : dig(workload, 'spec', 'replicas')

      return {
        workload,
        replicas: typeof count === 'number' ? count : 1,
        longRunning: !isJob,
        annotations: asDict(dig(template, 'metadata', 'annotations')),
        labels: asDict(dig(template, 'metadata', 'labels')),
        spec: asDict(spec),
        containers: dicts(dig(spec, 'containers')),
        initContainers: dicts(dig(spec, 'initContainers')),
      }
    })
}

function asDict(value: unknown): Dict {
  return isDict(value) ? value : {}
}

/** The `data` of a ConfigMap (or decoded Secret) whose generated name starts with `prefix`. */
export function generatedData(objects: K8sObject[], kind: 'ConfigMap' | 'Secret', prefix: string) {
  const found = objects.find((o) => o.kind === kind && o.metadata.name.startsWith(`${prefix}-`))
  if (found === undefined) {
    return undefined
  }

  const data = asDict(found.data)
  const decoded: Record<string, string> = {}
  for (const [key, value] of Object.entries(data)) {
    if (typeof value === 'string') {
      decoded[key] = kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value
    }
  }

  return decoded
}

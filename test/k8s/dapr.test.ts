// Checks the Dapr side of the DOKS overlay against the runtime contract: one app id per role on
// its app port, the three components and who may load them, a consumer group per app, a
// dead-letter topic for every subscription, and a resiliency policy that only names policies it
// declares. Schemas are in helpers/dapr-schemas.ts; nothing here talks to a Dapr runtime.
import t from 'tap'

import { KNOWN_COMPONENT_METADATA } from './helpers/dapr-schemas.js'
import {
  dicts,
  dig,
  generatedData,
  isDict,
  named,
  ofKind,
  podTemplates,
  render,
  strings,
  type K8sObject,
} from './helpers/manifests.js'

const DOKS = render('overlays/doks')
const ROLES = ['backend', 'reminder', 'recurrence', 'audit'] as const
const APP_IDS = ROLES.map((role) => `taskstream-${role}`)

/** Who loads what (issue 6): everyone pub/sub and secrets, the reminder the state store too. */
const COMPONENT_SCOPES: Record<string, string[]> = {
  taskevents: APP_IDS,
  statestore: ['taskstream-reminder'],
  'todo-secrets': APP_IDS,
}

/** The topics each app consumes (src/events/catalogue.ts and the runtime contract). */
const SUBSCRIPTIONS: Record<string, string[]> = {
  'taskstream-backend': ['notifications', 'task-commands'],
  'taskstream-reminder': ['tasks'],
  'taskstream-recurrence': ['tasks'],
  'taskstream-audit': ['tasks'],
}

function metadataValue(component: K8sObject, name: string): unknown {
  const entry = dicts(dig(component, 'spec', 'metadata')).find((m) => m.name === name)

  return entry?.value ?? entry?.secretKeyRef
}

void t.test('doks should give each role one unique Dapr app id served on its app port', (t) => {
  const ids: string[] = []
  for (const role of ROLES) {
    const pod = podTemplates([named(DOKS, 'Deployment', `taskstream-${role}`)])[0]
    const annotations = pod?.annotations ?? {}
    const port = dig(pod?.containers[0], 'ports', 0, 'containerPort')
    t.equal(annotations['dapr.io/enabled'], 'true', `${role} has a sidecar`)
    t.equal(annotations['dapr.io/app-id'], `taskstream-${role}`, `${role} app id`)
    t.equal(annotations['dapr.io/app-port'], String(port), `${role} app port is its http port`)
    t.equal(annotations['dapr.io/config'], 'taskstream')
    for (const key of ['cpu-request', 'cpu-limit', 'memory-request', 'memory-limit']) {
      t.type(annotations[`dapr.io/sidecar-${key}`], 'string', `${role} sidecar ${key}`)
    }
    ids.push(String(annotations['dapr.io/app-id']))
  }
  t.equal(new Set(ids).size, ROLES.length, 'app ids are unique')
  const migrate = podTemplates([named(DOKS, 'Job', 'taskstream-migrate')])[0]
  // A sidecar never exits, so a Job with one would never complete.
  t.equal(migrate?.annotations['dapr.io/enabled'], undefined, 'the migration Job has no sidecar')
  named(DOKS, 'Configuration', 'taskstream')
  t.end()
})

void t.test(
  'doks components should be taskevents, statestore and todo-secrets, scoped per app',
  (t) => {
    const components = ofKind(DOKS, 'Component')
    t.same(components.map((c) => c.metadata.name).sort(), Object.keys(COMPONENT_SCOPES).sort())
    for (const component of components) {
      const name = component.metadata.name
      t.same(
        strings(component.scopes).sort(),
        [...(COMPONENT_SCOPES[name] ?? [])].sort(),
        `${name} scopes`,
      )
      const key = `${String(dig(component, 'spec', 'type'))}/${String(dig(component, 'spec', 'version'))}`
      const known = KNOWN_COMPONENT_METADATA[key]
      t.ok(known, `${name} is a ${key} component we know`)
      for (const entry of dicts(dig(component, 'spec', 'metadata'))) {
        t.ok(known?.has(String(entry.name)), `${name} metadata ${String(entry.name)} is documented`)
      }
    }
    const config = generatedData(DOKS, 'ConfigMap', 'taskstream-config') ?? {}
    t.equal(config.DAPR_PUBSUB_NAME, 'taskevents')
    t.equal(config.DAPR_STATESTORE_NAME, 'statestore')
    t.equal(config.DAPR_SECRETSTORE_NAME, 'todo-secrets')
    t.end()
  },
)

void t.test('doks pub/sub should give every app its own consumer group on Redpanda', (t) => {
  const pubsub = named(DOKS, 'Component', 'taskevents')
  t.equal(dig(pubsub, 'spec', 'type'), 'pubsub.kafka')
  t.equal(metadataValue(pubsub, 'consumerGroup'), '{appID}')
  t.equal(metadataValue(pubsub, 'authType'), 'none')
  t.match(metadataValue(pubsub, 'brokers'), /^redpanda\.redpanda\.svc\.cluster\.local:9093$/)
  t.end()
})

void t.test('doks state store should reach PostgreSQL through the todo-secrets store', (t) => {
  const state = named(DOKS, 'Component', 'statestore')
  t.equal(dig(state, 'spec', 'type'), 'state.postgresql')
  t.same(metadataValue(state, 'connectionString'), {
    name: 'taskstream-secrets',
    key: 'DATABASE_URL',
  })
  t.equal(dig(state, 'auth', 'secretStore'), 'todo-secrets')
  t.equal(dig(named(DOKS, 'Component', 'todo-secrets'), 'spec', 'type'), 'secretstores.kubernetes')
  t.end()
})

void t.test('doks secret store should read one Secret only, with the Dapr apps identities', (t) => {
  const role = named(DOKS, 'Role', 'dapr-secret-reader')
  t.same(dig(role, 'rules'), [
    {
      apiGroups: [''],
      resources: ['secrets'],
      resourceNames: ['taskstream-secrets'],
      verbs: ['get'],
    },
  ])
  const binding = named(DOKS, 'RoleBinding', 'dapr-secret-reader')
  t.same(
    dicts(binding.subjects)
      .map((s) => s.name)
      .sort(),
    [...APP_IDS].sort(),
  )
  for (const id of APP_IDS) {
    t.equal(named(DOKS, 'ServiceAccount', id).automountServiceAccountToken, true, `${id} token`)
  }
  t.equal(named(DOKS, 'ServiceAccount', 'taskstream-migrate').automountServiceAccountToken, false)
  const scope = dig(named(DOKS, 'Configuration', 'taskstream'), 'spec', 'secrets', 'scopes', 0)
  t.same(scope, {
    storeName: 'todo-secrets',
    defaultAccess: 'deny',
    allowedSecrets: ['taskstream-secrets'],
  })
  t.end()
})

void t.test(
  'doks subscriptions should route each topic to its apps with a dead-letter topic',
  (t) => {
    const consumed = new Map<string, string[]>()
    for (const subscription of ofKind(DOKS, 'Subscription')) {
      const name = subscription.metadata.name
      const topic = String(dig(subscription, 'spec', 'topic'))
      const scopes = strings(subscription.scopes)
      t.equal(scopes.length, 1, `${name} belongs to one app`)
      t.equal(dig(subscription, 'spec', 'pubsubname'), 'taskevents', `${name} pub/sub`)
      t.equal(
        dig(subscription, 'spec', 'deadLetterTopic'),
        `${topic}.dlq`,
        `${name} dead-letter topic`,
      )
      t.equal(dig(subscription, 'spec', 'routes', 'default'), `/events/${topic}`, `${name} route`)
      for (const app of scopes) {
        consumed.set(app, [...(consumed.get(app) ?? []), topic].sort())
      }
    }
    t.same(Object.fromEntries(consumed), SUBSCRIPTIONS)
    t.end()
  },
)

function keysOf(value: unknown): string[] {
  return isDict(value) ? Object.keys(value) : []
}

void t.test(
  'doks resiliency should retry and break circuits for pub/sub with declared policies',
  (t) => {
    const resiliency = named(DOKS, 'Resiliency', 'taskstream')
    const policies = dig(resiliency, 'spec', 'policies')
    const declared = {
      timeout: keysOf(dig(policies, 'timeouts')),
      retry: keysOf(dig(policies, 'retries')),
      circuitBreaker: keysOf(dig(policies, 'circuitBreakers')),
    }
    const components = dig(resiliency, 'spec', 'targets', 'components')
    for (const [component, directions] of Object.entries(isDict(components) ? components : {})) {
      t.ok(COMPONENT_SCOPES[component], `${component} is a component we deploy`)
      for (const [direction, target] of Object.entries(isDict(directions) ? directions : {})) {
        for (const [kind, policy] of Object.entries(isDict(target) ? target : {})) {
          const names: string[] = kind in declared ? declared[kind as keyof typeof declared] : []
          t.ok(
            names.includes(String(policy)),
            `${component} ${direction} ${kind} ${String(policy)} exists`,
          )
        }
      }
    }
    for (const direction of ['outbound', 'inbound']) {
      t.type(
        dig(components, 'taskevents', direction, 'retry'),
        'string',
        `pub/sub ${direction} retries`,
      )
      t.type(
        dig(components, 'taskevents', direction, 'circuitBreaker'),
        'string',
        `${direction} breaker`,
      )
    }
    t.same(strings(resiliency.scopes).sort(), [...APP_IDS].sort())
    t.end()
  },
)

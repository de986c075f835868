// Renders k8s/kustomize (base, dev, doks) with the machine's kubectl, validates every object
// against the Kubernetes schemas (and the Dapr ones, see dapr.test.ts) and checks the invariants
// of the deployment: probes, limits, a locked-down security context, one image for every role,
// network policies, disruption budgets and the wiring of each overlay. Offline; no cluster.
import t from 'tap'

import { daprSchemaProblems, isDaprResource } from './helpers/dapr-schemas.js'
import { FieldChecker, schemaProblems } from './helpers/kubernetes-schemas.js'
import {
  dicts,
  dig,
  generatedData,
  isDict,
  named,
  ofKind,
  podTemplates,
  readText,
  render,
  strings,
  type Dict,
  type K8sObject,
  type PodTemplate,
} from './helpers/manifests.js'

const RENDERED = {
  base: render('base'),
  dev: render('overlays/dev'),
  doks: render('overlays/doks'),
} as const
const DEPLOYABLE = { dev: RENDERED.dev, doks: RENDERED.doks } as const
const ROLES = ['backend', 'reminder', 'recurrence', 'audit'] as const
const WORKERS = ['reminder', 'recurrence', 'audit'] as const
const TOPICS = ['tasks', 'notifications', 'task-commands'] as const

function allContainers(pod: PodTemplate): Dict[] {
  return [...pod.initContainers, ...pod.containers]
}

const APP_COMPONENTS = new Set<unknown>([...ROLES, 'migrate'])

/** Pods that run the taskstream image (the dev topic Job shares the label, not the image). */
function taskstreamPods(objects: K8sObject[]): PodTemplate[] {
  return podTemplates(objects).filter((p) =>
    APP_COMPONENTS.has(p.labels['app.kubernetes.io/component']),
  )
}

function envValue(container: Dict, name: string): unknown {
  return dicts(container.env).find((e) => e.name === name)?.value
}

void t.test(
  'kubectl kustomize should render base and both overlays into the taskstream namespace',
  (t) => {
    for (const [overlay, objects] of Object.entries(RENDERED)) {
      t.ok(objects.length > 0, `${overlay} renders objects`)
      for (const object of objects) {
        if (object.kind !== 'Namespace') {
          t.equal(
            object.metadata.namespace,
            'taskstream',
            `${overlay} ${object.kind}/${object.metadata.name}`,
          )
        }
      }
      t.same(
        ofKind(objects, 'Namespace').map((n) => n.metadata.name),
        ['taskstream'],
      )
    }
    t.end()
  },
)

void t.test(
  'every rendered object should validate against its schema with no unknown field',
  async (t) => {
    const builtIn = Object.values(RENDERED)
      .flat()
      .filter((o) => !isDaprResource(o))
    const fields = new FieldChecker(builtIn)
    for (const [overlay, objects] of Object.entries(RENDERED)) {
      for (const o of objects) {
        const problems = isDaprResource(o)
          ? daprSchemaProblems(o)
          : [...(await schemaProblems(o)), ...fields.unknownFields(o)]
        t.same(problems, [], `${overlay} ${o.apiVersion} ${o.kind}/${o.metadata.name}`)
      }
    }
  },
)

void t.test('every long-running container should have liveness and readiness probes', (t) => {
  for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
    for (const pod of podTemplates(objects).filter((p) => p.longRunning)) {
      for (const container of pod.containers) {
        const where = `${overlay} ${pod.workload.metadata.name}/${String(container.name)}`
        t.ok(isDict(container.livenessProbe), `${where} has a liveness probe`)
        t.ok(isDict(container.readinessProbe), `${where} has a readiness probe`)
      }
    }
    for (const pod of taskstreamPods(objects).filter((p) => p.longRunning)) {
      const [container] = pod.containers
      t.equal(dig(container, 'livenessProbe', 'httpGet', 'path'), '/healthz')
      t.equal(dig(container, 'livenessProbe', 'httpGet', 'port'), 'http')
      t.equal(dig(container, 'readinessProbe', 'httpGet', 'path'), '/readyz')
      t.equal(dig(container, 'readinessProbe', 'httpGet', 'port'), 'http')
    }
  }
  t.end()
})

void t.test('every container should request and limit CPU and memory', (t) => {
  for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
    for (const pod of podTemplates(objects)) {
      for (const container of allContainers(pod)) {
        const where = `${overlay} ${pod.workload.metadata.name}/${String(container.name)}`
        for (const path of ['requests', 'limits'] as const) {
          for (const resource of ['cpu', 'memory'] as const) {
            t.ok(
              dig(container, 'resources', path, resource) !== undefined,
              `${where} ${path}.${resource}`,
            )
          }
        }
      }
    }
  }
  t.end()
})

void t.test(
  'every pod should run non-root, read-only, unprivileged under RuntimeDefault seccomp',
  (t) => {
    for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
      for (const pod of podTemplates(objects)) {
        const name = `${overlay} ${pod.workload.metadata.name}`
        t.equal(dig(pod.spec, 'securityContext', 'runAsNonRoot'), true, `${name} runAsNonRoot`)
        t.equal(
          dig(pod.spec, 'securityContext', 'seccompProfile', 'type'),
          'RuntimeDefault',
          `${name} seccomp`,
        )
        t.type(dig(pod.spec, 'securityContext', 'runAsUser'), 'number', `${name} numeric runAsUser`)
        t.not(dig(pod.spec, 'securityContext', 'runAsUser'), 0, `${name} not uid 0`)
        for (const container of allContainers(pod)) {
          const where = `${name}/${String(container.name)}`
          const context = container.securityContext
          t.equal(
            dig(context, 'allowPrivilegeEscalation'),
            false,
            `${where} allowPrivilegeEscalation`,
          )
          t.equal(dig(context, 'readOnlyRootFilesystem'), true, `${where} readOnlyRootFilesystem`)
          t.not(dig(context, 'privileged'), true, `${where} not privileged`)
          t.same(strings(dig(context, 'capabilities', 'drop')), ['ALL'], `${where} drops ALL`)
          t.equal(dig(context, 'capabilities', 'add'), undefined, `${where} adds none`)
          t.not(dig(context, 'runAsUser'), 0, `${where} not uid 0`)
        }
      }
      // Node writes temporary files; with a read-only root it needs a writable /tmp.
      for (const pod of taskstreamPods(objects)) {
        const tmp = dicts(pod.containers[0]?.volumeMounts).find((m) => m.mountPath === '/tmp')
        const volume = dicts(pod.spec.volumes).find((v) => v.name === tmp?.name)
        t.ok(
          isDict(volume?.emptyDir),
          `${overlay} ${pod.workload.metadata.name} has an emptyDir /tmp`,
        )
      }
    }
    t.end()
  },
)

void t.test('the taskstream namespace should enforce the restricted pod security standard', (t) => {
  const namespace = named(RENDERED.base, 'Namespace', 'taskstream')
  t.equal(dig(namespace, 'metadata', 'labels', 'pod-security.kubernetes.io/enforce'), 'restricted')
  t.end()
})

void t.test('backend and workers should run one image with the role as argument', (t) => {
  for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
    const images = new Set<unknown>()
    for (const role of ROLES) {
      const pod = podTemplates([named(objects, 'Deployment', `taskstream-${role}`)])[0]
      const container = pod?.containers[0]
      const port = role === 'backend' ? 3000 : 3001
      const args =
        role === 'backend'
          ? ['node', 'dist/backend/main.js']
          : ['node', 'dist/workers/main.js', role]
      images.add(container?.image)
      t.same(container?.args, args, `${overlay} ${role} args`)
      // `command` would replace the image's tini entrypoint, and SIGTERM would reach PID 1 node.
      t.equal(container?.command, undefined, `${overlay} ${role} keeps the entrypoint`)
      t.equal(envValue(container ?? {}, 'PORT'), String(port), `${overlay} ${role} PORT`)
      t.equal(dig(container, 'ports', 0, 'containerPort'), port, `${overlay} ${role} http port`)
      t.equal(dig(container, 'ports', 0, 'name'), 'http')
    }
    const migrate = podTemplates([named(objects, 'Job', 'taskstream-migrate')])[0]?.containers[0]
    images.add(migrate?.image)
    t.same(migrate?.args, ['node', 'dist/backend/migrate.js'], `${overlay} migration args`)
    t.equal(images.size, 1, `${overlay} runs a single image`)
    t.equal(
      generatedData(objects, 'ConfigMap', 'taskstream-config')?.HOST,
      '0.0.0.0',
      `${overlay} HOST`,
    )
  }
  t.end()
})

void t.test(
  'dev should run Redpanda and PostgreSQL in the cluster and select the Kafka adapter',
  (t) => {
    const objects = RENDERED.dev
    const config = generatedData(objects, 'ConfigMap', 'taskstream-config') ?? {}
    t.equal(config.EVENT_TRANSPORT, 'kafka')
    for (const name of ['redpanda', 'postgres']) {
      named(objects, 'StatefulSet', name)
      t.equal(dig(named(objects, 'Service', name), 'spec', 'clusterIP'), 'None', `${name} headless`)
    }
    for (const broker of (config.KAFKA_BROKERS ?? '').split(',')) {
      const [host, port] = broker.split(':')
      const service = named(objects, 'Service', host ?? '')
      t.ok(
        dicts(dig(service, 'spec', 'ports')).some((p) => String(p.port) === port),
        `${broker} is a port of an in-cluster Service`,
      )
    }
    const secrets = generatedData(objects, 'Secret', 'taskstream-secrets') ?? {}
    t.equal(
      new URL(secrets.DATABASE_URL ?? 'x:').hostname,
      'postgres',
      'DATABASE_URL is the dev PostgreSQL',
    )
    t.ok((secrets.JWT_SECRET ?? '').length >= 32, 'JWT_SECRET is long enough for config.ts')
    for (const pod of taskstreamPods(objects)) {
      t.equal(pod.containers[0]?.image, 'taskstream:dev', `${pod.workload.metadata.name} image`)
      t.equal(pod.containers[0]?.imagePullPolicy, 'IfNotPresent')
    }
    const createTopics = strings(
      dig(podTemplates([named(objects, 'Job', 'create-topics')])[0], 'containers', 0, 'command'),
    )
    for (const topic of TOPICS) {
      t.match(
        createTopics.join(' '),
        new RegExp(`\\b${topic} .*\\b${topic}\\.dlq\\b`),
        `creates ${topic} and its DLQ`,
      )
    }
    t.end()
  },
)

void t.test(
  'doks should pull from DOCR, select the Dapr adapter and keep secrets out of the repo',
  (t) => {
    const objects = RENDERED.doks
    t.equal(generatedData(objects, 'ConfigMap', 'taskstream-config')?.EVENT_TRANSPORT, 'dapr')
    for (const pod of taskstreamPods(objects)) {
      t.match(
        pod.containers[0]?.image,
        /^registry\.digitalocean\.com\/[a-z0-9-]+\/taskstream:[\w.-]+$/,
      )
      const account = named(objects, 'ServiceAccount', String(pod.spec.serviceAccountName))
      t.ok(
        dicts(account.imagePullSecrets).length > 0,
        `${account.metadata.name} can pull from DOCR`,
      )
    }
    t.same(ofKind(objects, 'Secret'), [], 'no Secret is rendered: it is created by hand')
    const referenced = new Set(
      taskstreamPods(objects).flatMap((p) =>
        dicts(p.containers[0]?.envFrom)
          .map((e) => dig(e, 'secretRef', 'name'))
          .filter((n) => n !== undefined),
      ),
    )
    t.same([...referenced], ['taskstream-secrets'])
    const template = readText('k8s/kustomize/base/secrets.env.example')
    t.match(template, /^DATABASE_URL=/m)
    t.match(template, /^JWT_SECRET=/m)
    t.match(readText('k8s/kustomize/overlays/doks/.gitignore'), /^secrets\.env$/m)
    t.end()
  },
)

void t.test(
  'doks ingress should expose only /api and /docs and stream notifications unbuffered',
  (t) => {
    const ingresses = ofKind(RENDERED.doks, 'Ingress')
    const paths = new Map<string, K8sObject>()
    for (const ingress of ingresses) {
      t.equal(dig(ingress, 'spec', 'ingressClassName'), 'nginx')
      for (const rule of dicts(dig(ingress, 'spec', 'rules'))) {
        for (const path of dicts(dig(rule, 'http', 'paths'))) {
          paths.set(String(path.path), ingress)
          t.equal(dig(path, 'backend', 'service', 'name'), 'taskstream-backend')
        }
      }
    }
    t.same([...paths.keys()].sort(), ['/api', '/api/notifications/stream', '/docs'])
    const stream = dig(paths.get('/api/notifications/stream'), 'metadata', 'annotations')
    t.equal(dig(stream, 'nginx.ingress.kubernetes.io/proxy-buffering'), 'off')
    t.ok(
      Number(dig(stream, 'nginx.ingress.kubernetes.io/proxy-read-timeout')) >= 3600,
      'long read timeout',
    )
    t.end()
  },
)

void t.test(
  'network policies should deny ingress by default and admit only what must talk',
  (t) => {
    for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
      const policies = ofKind(objects, 'NetworkPolicy')
      const deny = named(objects, 'NetworkPolicy', 'default-deny-ingress')
      t.same(dig(deny, 'spec', 'podSelector'), {}, `${overlay} default deny selects every pod`)
      t.equal(dig(deny, 'spec', 'ingress'), undefined, `${overlay} default deny admits nothing`)
      for (const policy of policies) {
        for (const rule of dicts(dig(policy, 'spec', 'ingress'))) {
          t.ok(dicts(rule.from).length > 0, `${overlay} ${policy.metadata.name} names its sources`)
          t.ok(dicts(rule.ports).length > 0, `${overlay} ${policy.metadata.name} names its ports`)
        }
      }
      const backend = named(objects, 'NetworkPolicy', 'backend-from-ingress-controller')
      const from = dig(backend, 'spec', 'ingress', 0, 'from', 0)
      t.equal(
        dig(from, 'namespaceSelector', 'matchLabels', 'kubernetes.io/metadata.name'),
        'ingress-nginx',
      )
      t.equal(dig(backend, 'spec', 'ingress', 0, 'ports', 0, 'port'), 3000)
    }
    t.ok(named(RENDERED.dev, 'NetworkPolicy', 'postgres-from-taskstream'))
    t.ok(named(RENDERED.dev, 'NetworkPolicy', 'redpanda-from-taskstream'))
    t.end()
  },
)

function selects(selector: unknown, labels: Dict): boolean {
  const match = dig(selector, 'matchLabels')

  return isDict(match) && Object.entries(match).every(([k, v]) => labels[k] === v)
}

void t.test('disruption budgets should cover each deployment and never block a node drain', (t) => {
  for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
    const budgets = ofKind(objects, 'PodDisruptionBudget')
    for (const pod of podTemplates(ofKind(objects, 'Deployment'))) {
      const name = `${overlay} ${pod.workload.metadata.name}`
      const covering = budgets.filter((b) => selects(dig(b, 'spec', 'selector'), pod.labels))
      t.equal(covering.length, 1, `${name} has one budget`)
      const minAvailable = dig(covering[0], 'spec', 'minAvailable')
      const maxUnavailable = dig(covering[0], 'spec', 'maxUnavailable')
      if (typeof minAvailable === 'number') {
        t.ok(
          minAvailable < pod.replicas,
          `${name} keeps ${minAvailable} of ${pod.replicas} and can drain`,
        )
      } else {
        t.ok(typeof maxUnavailable === 'number' && maxUnavailable >= 1, `${name} may lose one pod`)
      }
    }
  }
  const backend = podTemplates([named(RENDERED.doks, 'Deployment', 'taskstream-backend')])[0]
  t.ok((backend?.replicas ?? 0) >= 2, 'the API survives a drain on DOKS')
  t.end()
})

void t.test('each role should run under its own service account', (t) => {
  for (const [overlay, objects] of Object.entries(DEPLOYABLE)) {
    for (const role of WORKERS) {
      const pod = podTemplates([named(objects, 'Deployment', `taskstream-${role}`)])[0]
      t.equal(pod?.spec.serviceAccountName, `taskstream-${role}`, `${overlay} ${role} identity`)
      t.equal(pod?.labels['app.kubernetes.io/component'], role)
    }
  }
  t.end()
})

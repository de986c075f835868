// JSON schemas for the Dapr resources taskstream deploys, written from Dapr's documentation
// (Component, Subscription v2alpha1, Resiliency, Configuration) because no package ships them.
// They are closed (additionalProperties: false) on purpose: a misspelt key fails here instead of
// being ignored by the sidecar. Component metadata names are checked against the fields Dapr
// documents for each component type we use.
import { Ajv, type ValidateFunction } from 'ajv'

import type { K8sObject } from './manifests.js'

// Go's time.ParseDuration syntax, as Dapr reads durations.
const duration = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' }
const stringMap = { type: 'object', additionalProperties: { type: 'string' } }
const name = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 }

const metadata = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name, namespace: name, labels: stringMap, annotations: stringMap },
}

const scopes = { type: 'array', minItems: 1, uniqueItems: true, items: name }

function resource(apiVersion: string, kind: string, spec: object, required = ['spec']) {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['apiVersion', 'kind', 'metadata', ...required],
    properties: {
      apiVersion: { const: apiVersion },
      kind: { const: kind },
      metadata,
      spec,
      auth: {
        type: 'object',
        additionalProperties: false,
        required: ['secretStore'],
        properties: { secretStore: name },
      },
      scopes,
    },
  }
}

const metadataItem = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1 },
    value: { type: ['string', 'number', 'boolean'] },
    secretKeyRef: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'key'],
      properties: { name, key: { type: 'string', minLength: 1 } },
    },
    envRef: { type: 'string' },
  },
  oneOf: [{ required: ['value'] }, { required: ['secretKeyRef'] }, { required: ['envRef'] }],
}

const component = resource('dapr.io/v1alpha1', 'Component', {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'version'],
  properties: {
    type: { type: 'string', pattern: '^[a-z]+(\\.[a-z]+)?\\.[a-z0-9.-]+$' },
    version: { type: 'string', pattern: '^v[0-9]+$' },
    ignoreErrors: { type: 'boolean' },
    initTimeout: duration,
    metadata: { type: 'array', items: metadataItem },
  },
})

const subscription = resource('dapr.io/v2alpha1', 'Subscription', {
  type: 'object',
  additionalProperties: false,
  required: ['pubsubname', 'topic', 'routes'],
  properties: {
    pubsubname: name,
    topic: { type: 'string', minLength: 1 },
    routes: {
      type: 'object',
      additionalProperties: false,
      minProperties: 1,
      properties: {
        default: { type: 'string', pattern: '^/' },
        rules: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['match', 'path'],
            properties: { match: { type: 'string' }, path: { type: 'string', pattern: '^/' } },
          },
        },
      },
    },
    deadLetterTopic: { type: 'string', minLength: 1 },
    metadata: stringMap,
    bulkSubscribe: {
      type: 'object',
      additionalProperties: false,
      properties: {
        enabled: { type: 'boolean' },
        maxMessagesCount: { type: 'integer', minimum: 1 },
        maxAwaitDurationMs: { type: 'integer', minimum: 1 },
      },
    },
  },
})

const policyRef = { type: 'string', minLength: 1 }
const targetPolicies = {
  type: 'object',
  additionalProperties: false,
  properties: { timeout: policyRef, retry: policyRef, circuitBreaker: policyRef },
}

const resiliency = resource('dapr.io/v1alpha1', 'Resiliency', {
  type: 'object',
  additionalProperties: false,
  required: ['policies', 'targets'],
  properties: {
    policies: {
      type: 'object',
      additionalProperties: false,
      properties: {
        timeouts: { type: 'object', additionalProperties: duration },
        retries: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['policy'],
            properties: {
              policy: { enum: ['constant', 'exponential'] },
              duration,
              maxInterval: duration,
              maxRetries: { type: 'integer', minimum: -1 },
              matching: {
                type: 'object',
                additionalProperties: false,
                properties: {
                  httpStatusCodes: { type: 'string' },
                  gRPCStatusCodes: { type: 'string' },
                },
              },
            },
          },
        },
        circuitBreakers: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            required: ['trip'],
            properties: {
              maxRequests: { type: 'integer', minimum: 1 },
              interval: duration,
              timeout: duration,
              trip: { type: 'string', minLength: 1 },
            },
          },
        },
      },
    },
    targets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        apps: {
          type: 'object',
          additionalProperties: {
            ...targetPolicies,
            properties: {
              ...targetPolicies.properties,
              circuitBreakerCacheSize: { type: 'integer' },
            },
          },
        },
        actors: { type: 'object' },
        components: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            additionalProperties: false,
            minProperties: 1,
            properties: { outbound: targetPolicies, inbound: targetPolicies },
          },
        },
      },
    },
  },
})

const configuration = resource('dapr.io/v1alpha1', 'Configuration', {
  type: 'object',
  additionalProperties: false,
  properties: {
    secrets: {
      type: 'object',
      additionalProperties: false,
      properties: {
        scopes: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['storeName'],
            properties: {
              storeName: name,
              defaultAccess: { enum: ['allow', 'deny'] },
              allowedSecrets: { type: 'array', items: { type: 'string' } },
              deniedSecrets: { type: 'array', items: { type: 'string' } },
            },
          },
        },
      },
    },
    // Sections taskstream does not set yet; their inner shape is left to Dapr.
    tracing: { type: 'object' },
    metric: { type: 'object' },
    features: { type: 'array' },
    api: { type: 'object' },
    accessControl: { type: 'object' },
    appHttpPipeline: { type: 'object' },
    httpPipeline: { type: 'object' },
  },
})

/** Metadata fields Dapr documents for the component types taskstream uses. */
export const KNOWN_COMPONENT_METADATA: Record<string, ReadonlySet<string>> = {
  'pubsub.kafka/v1': new Set([
    'brokers',
    'consumerGroup',
    'consumerID',
    'clientID',
    'authType',
    'authRequired',
    'saslUsername',
    'saslPassword',
    'saslMechanism',
    'initialOffset',
    'maxMessageBytes',
    'consumeRetryEnabled',
    'consumeRetryInterval',
    'heartbeatInterval',
    'sessionTimeout',
    'version',
    'disableTls',
    'skipVerify',
    'caCert',
    'clientCert',
    'clientKey',
    'consumerFetchMin',
    'consumerFetchDefault',
    'channelBufferSize',
    'compression',
    'escapeHeaders',
    'excludeHeaderMetaRegex',
    // Generic to every pub/sub component.
    'publishingScopes',
    'subscriptionScopes',
    'allowedTopics',
    'protectedTopics',
  ]),
  'state.postgresql/v2': new Set([
    'connectionString',
    'host',
    'hostaddr',
    'port',
    'database',
    'user',
    'password',
    'sslRootCert',
    'timeout',
    'tablePrefix',
    'metadataTableName',
    'cleanupInterval',
    'maxConns',
    'connectionMaxIdleTime',
    'queryExecMode',
    'actorStateStore',
  ]),
  'secretstores.kubernetes/v1': new Set(['defaultNamespace', 'kubeconfigPath']),
}

const SCHEMAS: Record<string, object> = {
  'dapr.io/v1alpha1 Component': component,
  'dapr.io/v2alpha1 Subscription': subscription,
  'dapr.io/v1alpha1 Resiliency': resiliency,
  'dapr.io/v1alpha1 Configuration': configuration,
}

// strictRequired is off: oneOf branches name properties declared one level up.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true })
const validators = new Map<string, ValidateFunction>(
  Object.entries(SCHEMAS).map(([key, schema]) => [key, ajv.compile(schema)]),
)

export function isDaprResource(object: K8sObject): boolean {
  return object.apiVersion.startsWith('dapr.io/')
}

/** Schema problems of one Dapr resource; a kind without a schema here is itself a problem. */
export function daprSchemaProblems(object: K8sObject): string[] {
  const validate = validators.get(`${object.apiVersion} ${object.kind}`)
  if (validate === undefined) {
    return [`no schema for ${object.apiVersion} ${object.kind}`]
  }
  if (validate(object)) {
    return []
  }

  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
}

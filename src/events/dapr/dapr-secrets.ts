// Reads the process's secrets through the sidecar's secret store (`todo-secrets`), so a Dapr
// deployment need not mount them as environment variables. Values are never logged.
import { AppError } from '../../shared/errors.js'
import { createDaprClient, type DaprSidecarOptions } from './dapr-sidecar.js'

/**
 * The Kubernetes Secret that holds them. The sidecar may read this one Secret and no other
 * (Configuration `taskstream`: allowedSecrets), so the keys come from one request for it, never
 * one request per key.
 */
export const DEFAULT_SECRET_NAME = 'taskstream-secrets'

export interface DaprSecretsOptions extends DaprSidecarOptions {
  /** The secret store component (DAPR_SECRETSTORE_NAME, `todo-secrets`). */
  storeName: string
  /** The secret within the store. Default `taskstream-secrets`. */
  secretName?: string
}

/**
 * Fetches `GET /v1.0/secrets/<store>/<secret>` and returns the wanted keys that it holds (a
 * Kubernetes Secret answers all its keys at once). Missing keys are simply absent.
 */
export async function readDaprSecrets<K extends string>(
  options: DaprSecretsOptions,
  keys: readonly K[],
): Promise<Partial<Record<K, string>>> {
  const client = createDaprClient(options)
  const secretName = options.secretName ?? DEFAULT_SECRET_NAME
  let values: unknown
  try {
    values = await client.secret.get(options.storeName, secretName)
  } catch (err) {
    throw new AppError('EVT_SECRETS_FAILED', `dapr secret store could not read ${secretName}`, {
      cause: err,
      retryable: true,
    })
  }

  const found: Partial<Record<K, string>> = {}
  if (typeof values !== 'object' || values === null) {
    return found
  }

  for (const key of keys) {
    const value = (values as Record<string, unknown>)[key]
    if (typeof value === 'string' && value !== '') {
      found[key] = value
    }
  }

  return found
}

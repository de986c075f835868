// A small typed client over the sidecar's state API with optimistic concurrency: every read
// returns the ETag, every write and delete can demand it (first-write wins). A stale ETag is a
// retryable EVT_STATE_CONFLICT: read again, decide again, write again.
// https://docs.dapr.io/reference/api/state_api/
//
// Plain HTTP rather than @dapr/dapr: the SDK's single-key get drops the ETag response header, and
// its save and delete turn every failure into a logged `{ error }`, which hides a conflict's 409.
// src/workers/reminder/dapr-reminder-store.ts keeps the reminder schedule over this client.
import { AppError } from '../../shared/errors.js'
import { callSidecar, type SidecarAddress } from './dapr-sidecar.js'

export interface DaprStateStoreOptions extends SidecarAddress {
  /** The state store component (DAPR_STATESTORE_NAME, `statestore`). */
  storeName: string
}

/** A stored value with the ETag of the version read. */
export interface StateEntry<T> {
  key: string
  value: T
  etag: string
}

export function isStateConflict(err: unknown): boolean {
  return err instanceof AppError && err.code === 'EVT_STATE_CONFLICT'
}

/** Dapr answers a stale ETag with 409; older sidecars said so only in the message. */
async function failure(response: Response, key: string, what: string): Promise<AppError> {
  const text = await response.text().catch(() => '')
  if (response.status === 409 || /etag mismatch/i.test(text)) {
    return new AppError('EVT_STATE_CONFLICT', `state changed since it was read: ${key}`, {
      retryable: true,
      details: { key, status: response.status },
    })
  }

  return new AppError('EVT_STATE_FAILED', `dapr state store could not ${what}: ${key}`, {
    retryable: response.status >= 500,
    details: { key, status: response.status, answer: text.slice(0, 200) },
  })
}

function unreachable(err: unknown): AppError {
  return new AppError('EVT_STATE_FAILED', 'dapr sidecar is unreachable', {
    cause: err,
    retryable: true,
  })
}

export class DaprStateStore {
  readonly #options: DaprStateStoreOptions

  /** Logs nothing itself: failures travel as AppErrors to the caller, who decides. */
  constructor(options: DaprStateStoreOptions) {
    this.#options = options
  }

  #path(key?: string): string {
    const store = encodeURIComponent(this.#options.storeName)

    return key === undefined ? `/state/${store}` : `/state/${store}/${encodeURIComponent(key)}`
  }

  /** The value and its ETag, or undefined when the key holds nothing (204). */
  async get<T>(key: string): Promise<StateEntry<T> | undefined> {
    const response = await callSidecar(
      this.#options,
      `${this.#path(key)}?consistency=strong`,
    ).catch((err: unknown) => {
      throw unreachable(err)
    })
    if (response.status === 204) {
      return undefined
    }
    if (!response.ok) {
      throw await failure(response, key, 'read')
    }

    const etag = response.headers.get('etag') ?? ''
    const value = (await response.json()) as T

    return { key, value, etag }
  }

  /**
   * Writes `value` if the stored version still has `etag`; without an ETag the key must not
   * exist yet (first-write on a new key; how strictly is the store's business, and
   * state.postgresql enforces it). Throws EVT_STATE_CONFLICT when another writer came first.
   */
  async save<T>(key: string, value: T, etag?: string): Promise<void> {
    const item = {
      key,
      value,
      ...(etag === undefined ? {} : { etag }),
      options: { concurrency: 'first-write', consistency: 'strong' },
    }
    const response = await callSidecar(this.#options, this.#path(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([item]),
    }).catch((err: unknown) => {
      throw unreachable(err)
    })
    if (!response.ok) {
      throw await failure(response, key, 'save')
    }
  }

  /** Deletes the key if the stored version still has `etag` (any version without one). */
  async delete(key: string, etag?: string): Promise<void> {
    const response = await callSidecar(
      this.#options,
      `${this.#path(key)}?concurrency=first-write&consistency=strong`,
      { method: 'DELETE', headers: etag === undefined ? {} : { 'if-match': etag } },
    ).catch((err: unknown) => {
      throw unreachable(err)
    })
    if (!response.ok) {
      throw await failure(response, key, 'delete')
    }
  }
}

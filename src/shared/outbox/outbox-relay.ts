// Publishes what the outbox holds, in order, woken by LISTEN/NOTIFY the moment a change
// commits; a slow sweep is only the safety net. While the broker is down it backs off and
// keeps every event; when the broker returns, everything goes out in the order written.
import type { EventBus } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../db/database.js'
import type { Logger } from '../logger.js'
import {
  OUTBOX_CHANNEL,
  countUnsent,
  fetchUnsent,
  markSent,
  pruneSent,
  tryLockRelay,
} from './outbox-repository.js'

export interface OutboxRelayOptions {
  database: DatabaseHandle
  bus: EventBus
  logger: Logger
  /** Safety-net sweep interval, in milliseconds. */
  sweepMs: number
  /** Events published per transaction. Default 500. */
  batchSize?: number
  /** Sent rows are kept this long, for diagnosis. Default one day. */
  keepSentMs?: number
}

const BACKOFF_MAX_MS = 15_000

export class OutboxRelay {
  readonly #options: OutboxRelayOptions
  readonly #log: Logger
  #pending = false
  #running: Promise<void> | undefined
  #stopped = false
  #unlisten: (() => Promise<void>) | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #backoffMs = 0
  #lastPrune = 0

  constructor(options: OutboxRelayOptions) {
    this.#options = options
    this.#log = options.logger.child({ component: 'outbox-relay' })
  }

  async start(): Promise<void> {
    this.#unlisten = await this.#options.database.listen(OUTBOX_CHANNEL, () => this.wake())
    this.#sweepTimer = setInterval(() => this.wake(), this.#options.sweepMs)
    this.#sweepTimer.unref()
    this.wake()
  }

  /** Asks for a drain; cheap to call often, drains never overlap. */
  wake(): void {
    this.#pending = true
    if (this.#running !== undefined || this.#stopped || this.#retryTimer !== undefined) {
      return
    }

    this.#running = this.#run().finally(() => {
      this.#running = undefined
    })
  }

  /** Resolves once the outbox holds nothing unsent (for tests and graceful drains). */
  async flush(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while ((await countUnsent(this.#options.database.db)) > 0) {
      if (this.#stopped || Date.now() > deadline) {
        throw new Error('outbox did not drain in time')
      }
      this.wake()
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#sweepTimer)
    clearTimeout(this.#retryTimer)
    await this.#running
    await this.#unlisten?.()
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#stopped) {
      this.#pending = false
      try {
        while (!this.#stopped && (await this.#drainOnce()) > 0) {
          // Keep draining while full batches come back.
        }
        this.#backoffMs = 0
        await this.#pruneNowAndThen()
      } catch (err) {
        this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, 250), BACKOFF_MAX_MS)
        this.#log.warn({ err, retryInMs: this.#backoffMs }, 'outbox publish failed, will retry')
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined
          this.wake()
        }, this.#backoffMs)

        return
      }
    }
  }

  /** Publishes one batch; returns how many events went out (0: nothing to do or locked). */
  async #drainOnce(): Promise<number> {
    const { database, bus } = this.#options
    const limit = this.#options.batchSize ?? 500

    return database.db.transaction().execute(async (trx) => {
      if (!(await tryLockRelay(trx))) {
        return 0
      }

      const rows = await fetchUnsent(trx, limit)
      if (rows.length === 0) {
        return 0
      }

      await bus.publish(rows.map((row) => row.event))
      await markSent(
        trx,
        rows.map((row) => row.id),
      )
      this.#log.debug({ count: rows.length }, 'outbox published')

      return rows.length
    })
  }

  async #pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.#lastPrune < 60_000) {
      return
    }

    this.#lastPrune = Date.now()
    const pruned = await pruneSent(
      this.#options.database.db,
      this.#options.keepSentMs ?? 86_400_000,
    )
    if (pruned > 0) {
      this.#log.info({ pruned }, 'outbox pruned')
    }
  }
}

// Fans new notifications out to the streams connected to this process. Every backend replica
// runs one: it listens for the NOTIFY each insert sends and reads the rows after the last
// sequence it saw, so a notification stored by any replica reaches its user's streams on all.
import type { DatabaseHandle } from '../../shared/db/database.js'
import type { Logger } from '../../shared/logger.js'
import {
  lastSequence,
  NOTIFICATIONS_CHANNEL,
  readNotificationsAfter,
  type StoredNotification,
} from './notification-repository.js'

export type NotificationListener = (notification: StoredNotification) => void

const READ_BATCH = 1_000

export class NotificationHub {
  readonly #database: DatabaseHandle
  readonly #log: Logger
  readonly #listeners = new Map<string, Set<NotificationListener>>()
  readonly #closers = new Set<() => void>()
  #cursor = 0
  #pending = false
  #running: Promise<void> | undefined
  #stopped = false
  #unlisten: (() => Promise<void>) | undefined

  constructor(options: { database: DatabaseHandle; logger: Logger }) {
    this.#database = options.database
    this.#log = options.logger.child({ component: 'notification-hub' })
  }

  async start(): Promise<void> {
    this.#cursor = await lastSequence(this.#database.db)
    this.#unlisten = await this.#database.listen(NOTIFICATIONS_CHANNEL, () => this.#wake())
  }

  /** Calls `listener` with each new notification of `userId`; returns the unsubscribe. */
  subscribe(userId: string, listener: NotificationListener): () => void {
    const listeners = this.#listeners.get(userId) ?? new Set()
    listeners.add(listener)
    this.#listeners.set(userId, listeners)

    return () => {
      listeners.delete(listener)
      if (listeners.size === 0) {
        this.#listeners.delete(userId)
      }
    }
  }

  /** Registers how to end a stream when the server closes; returns the deregistration. */
  onClose(close: () => void): () => void {
    this.#closers.add(close)

    return () => this.#closers.delete(close)
  }

  /** Ends every open stream, so the server can close. */
  closeStreams(): void {
    for (const close of [...this.#closers]) {
      close()
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.closeStreams()
    await this.#running
    await this.#unlisten?.()
  }

  #wake(): void {
    this.#pending = true
    if (this.#running !== undefined || this.#stopped) {
      return
    }

    this.#running = this.#run().finally(() => {
      this.#running = undefined
    })
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#stopped) {
      this.#pending = false
      try {
        await this.#dispatchNew()
      } catch (err) {
        // The next NOTIFY, or the listen connection's return, tries again from the same place.
        this.#log.warn({ err }, 'notification fan-out failed')
      }
    }
  }

  async #dispatchNew(): Promise<void> {
    const db = this.#database.db
    if (this.#listeners.size === 0) {
      // Nobody to tell: skip ahead. A stream that connects later starts after this point.
      this.#cursor = Math.max(this.#cursor, await lastSequence(db))

      return
    }

    for (;;) {
      const rows = await readNotificationsAfter(db, this.#cursor, READ_BATCH)
      for (const row of rows) {
        this.#cursor = row.sequence
        for (const listener of this.#listeners.get(row.userId) ?? []) {
          try {
            listener(row)
          } catch (err) {
            this.#log.warn({ err, sequence: row.sequence }, 'notification listener failed')
          }
        }
      }
      if (rows.length < READ_BATCH) {
        return
      }
    }
  }
}

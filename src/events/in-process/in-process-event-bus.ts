// The in-process adapter: the embedded mode and unit tests. Each topic is an append-only log
// in memory; each consumer group keeps its own offset, so semantics match Kafka's (every group
// sees every event, in order, at least once) without a broker.
import type { Logger } from '../../shared/logger.js'
import { deadLetterTopicOf, topicOf, type TopicName } from '../catalogue.js'
import type { AnyCloudEvent } from '../cloud-event.js'
import { deliverBatch, resolveRetryPolicy, type RawMessage } from '../delivery.js'
import type { EventBus, SubscribeOptions, Subscription } from '../event-bus.js'
import { validateEvent } from '../event-validator.js'

// TODO(events): the in-process log is never trimmed, so a long-lived embedded process keeps
// every event in memory; trim below the slowest group's offset once that matters.
interface LogRecord {
  body: string
  /** Set on dead letters: why the event was set aside. */
  reason?: string
}

export class InProcessEventBus implements EventBus {
  readonly transport = 'in-process'
  readonly #log: Logger
  readonly #topics = new Map<string, LogRecord[]>()
  readonly #wakers = new Map<string, Set<() => void>>()
  readonly #subscriptions = new Set<Subscription>()

  constructor(options: { logger: Logger }) {
    this.#log = options.logger.child({ component: 'in-process-bus' })
  }

  ensureTopics(topics: readonly TopicName[]): Promise<void> {
    for (const topic of topics) {
      this.#records(topic)
      this.#records(deadLetterTopicOf(topic))
    }

    return Promise.resolve()
  }

  publish(events: readonly AnyCloudEvent[]): Promise<void> {
    for (const event of events) {
      validateEvent(event)
    }
    for (const event of events) {
      this.#append(topicOf(event.type), { body: JSON.stringify(event) })
    }

    return Promise.resolve()
  }

  /** The events on a topic, for tests and diagnostics (dead letters carry their reason). */
  read(topic: string): readonly LogRecord[] {
    return this.#records(topic)
  }

  /** Appends a raw message, valid or not, as a misbehaving producer would. */
  appendRaw(topic: string, body: string): void {
    this.#append(topic, { body })
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const records = this.#records(options.topic)
    const log = this.#log.child({ group: options.group, topic: options.topic })
    const retry = resolveRetryPolicy(options.retry)
    const maxBatch = options.maxBatchSize ?? 100
    let offset = 0
    let closing = false
    let wake: (() => void) | undefined

    const waitForRecords = () =>
      new Promise<void>((resolve) => {
        wake = resolve
        this.#wakersOf(options.topic).add(resolve)
      })

    const loop = async () => {
      while (!closing) {
        if (offset >= records.length) {
          await waitForRecords()
          continue
        }

        const chunk = records.slice(offset, offset + maxBatch)
        const raw: RawMessage[] = chunk.map((r, i) => ({
          body: r.body,
          position: String(offset + i),
        }))
        const done = await deliverBatch(raw, {
          handle: options.handle,
          retry,
          log,
          isActive: () => !closing,
          deadLetter: (letters) => {
            for (const letter of letters) {
              const body = letter.message.body?.toString() ?? ''
              this.#append(deadLetterTopicOf(options.topic), { body, reason: letter.reason })
            }

            return Promise.resolve()
          },
        })
        if (done) {
          offset += chunk.length
        }
      }
    }

    const running = loop().catch((err: unknown) => log.error({ err }, 'subscription stopped'))
    const subscription: Subscription = {
      close: async () => {
        closing = true
        wake?.()
        await running
        this.#subscriptions.delete(subscription)
      },
    }
    this.#subscriptions.add(subscription)
    await Promise.resolve()

    return subscription
  }

  ping(): Promise<void> {
    return Promise.resolve()
  }

  async close(): Promise<void> {
    await Promise.all([...this.#subscriptions].map((s) => s.close()))
  }

  #records(topic: string): LogRecord[] {
    let records = this.#topics.get(topic)
    if (records === undefined) {
      records = []
      this.#topics.set(topic, records)
    }

    return records
  }

  #wakersOf(topic: string): Set<() => void> {
    let wakers = this.#wakers.get(topic)
    if (wakers === undefined) {
      wakers = new Set()
      this.#wakers.set(topic, wakers)
    }

    return wakers
  }

  #append(topic: string, record: LogRecord): void {
    this.#records(topic).push(record)
    const wakers = this.#wakersOf(topic)
    const pending = [...wakers]
    wakers.clear()
    for (const wake of pending) {
      wake()
    }
  }
}

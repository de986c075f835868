// The in-process adapter: the embedded mode and unit tests. Each topic is an append-only log
// in memory; each consumer group keeps its own offset, so semantics match Kafka's (every group
// sees every event, in order, at least once) without a broker.
import type { Logger } from '../../shared/logger.js'
import { deadLetterTopicOf, topicOf, type TopicName } from '../catalogue.js'
import type { AnyCloudEvent } from '../cloud-event.js'
import { deliverBatch, resolveRetryPolicy, type RawMessage } from '../delivery.js'
import type { EventBus, SubscribeOptions, Subscription } from '../event-bus.js'
import { validateEvent } from '../event-validator.js'

interface LogRecord {
  body: string
  /** Set on dead letters: why the event was set aside. */
  reason?: string
}

/** Records every subscribed group has handled are dropped once this many pile up. */
const TRIM_AFTER = 1_000

/**
 * One topic's log. Offsets are absolute; records below every reader's offset are dropped in
 * chunks, so a long-lived embedded process does not keep every event it ever saw. A group that
 * subscribes later starts at the oldest record kept, as with a broker's retention.
 */
class TopicLog {
  base = 0
  readonly records: LogRecord[] = []
  readonly readers = new Set<{ offset: number }>()

  get end(): number {
    return this.base + this.records.length
  }

  slice(from: number, count: number): LogRecord[] {
    return this.records.slice(from - this.base, from - this.base + count)
  }

  trim(): void {
    const slowest = Math.min(...[...this.readers].map((r) => r.offset))
    if (this.readers.size > 0 && slowest - this.base >= TRIM_AFTER) {
      this.records.splice(0, slowest - this.base)
      this.base = slowest
    }
  }
}

export class InProcessEventBus implements EventBus {
  readonly transport = 'in-process'
  readonly #log: Logger
  readonly #topics = new Map<string, TopicLog>()
  readonly #wakers = new Map<string, Set<() => void>>()
  readonly #subscriptions = new Set<Subscription>()

  constructor(options: { logger: Logger }) {
    this.#log = options.logger.child({ component: 'in-process-bus' })
  }

  ensureTopics(topics: readonly TopicName[]): Promise<void> {
    for (const topic of topics) {
      this.#topicLog(topic)
      this.#topicLog(deadLetterTopicOf(topic))
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

  /** The events on a topic still kept, for tests and diagnostics (dead letters carry a reason). */
  read(topic: string): readonly LogRecord[] {
    return this.#topicLog(topic).records
  }

  /** Appends a raw message, valid or not, as a misbehaving producer would. */
  appendRaw(topic: string, body: string): void {
    this.#append(topic, { body })
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const topicLog = this.#topicLog(options.topic)
    const reader = { offset: topicLog.base }
    topicLog.readers.add(reader)
    const log = this.#log.child({ group: options.group, topic: options.topic })
    const retry = resolveRetryPolicy(options.retry)
    const maxBatch = options.maxBatchSize ?? 100
    let closing = false
    let wake: (() => void) | undefined

    const waitForRecords = () =>
      new Promise<void>((resolve) => {
        wake = resolve
        this.#wakersOf(options.topic).add(resolve)
      })

    const loop = async () => {
      while (!closing) {
        if (reader.offset >= topicLog.end) {
          await waitForRecords()
          continue
        }

        const start = reader.offset
        const chunk = topicLog.slice(start, maxBatch)
        const raw: RawMessage[] = chunk.map((r, i) => ({
          body: r.body,
          position: String(start + i),
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
          reader.offset += chunk.length
          topicLog.trim()
        }
      }
    }

    const running = loop().catch((err: unknown) => log.error({ err }, 'subscription stopped'))
    const subscription: Subscription = {
      close: async () => {
        closing = true
        wake?.()
        await running
        topicLog.readers.delete(reader)
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

  #topicLog(topic: string): TopicLog {
    let topicLog = this.#topics.get(topic)
    if (topicLog === undefined) {
      topicLog = new TopicLog()
      this.#topics.set(topic, topicLog)
    }

    return topicLog
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
    this.#topicLog(topic).records.push(record)
    const wakers = this.#wakersOf(topic)
    const pending = [...wakers]
    wakers.clear()
    for (const wake of pending) {
      wake()
    }
  }
}

// The direct adapter: kafkajs against Kafka or Redpanda, no sidecar. Idempotent producer with
// acks from every in-sync replica; offsets committed only after the handler succeeded.
import {
  CompressionTypes,
  Kafka,
  logLevel as KafkaLogLevel,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type LogEntry,
  type Producer,
} from 'kafkajs'

import { AppError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { deadLetterTopicOf, topicOf, type TopicName } from '../catalogue.js'
import { CLOUDEVENTS_CONTENT_TYPE, type AnyCloudEvent } from '../cloud-event.js'
import { deliverBatch, resolveRetryPolicy, type DeadLetter, type RawMessage } from '../delivery.js'
import type { EventBus, SubscribeOptions, Subscription } from '../event-bus.js'
import { validateEvent } from '../event-validator.js'

export interface KafkaEventBusOptions {
  brokers: readonly string[]
  clientId: string
  logger: Logger
  /** Prepended to every topic name, to share one cluster between environments. Default ''. */
  topicPrefix?: string
  /** Partitions of each main topic when it is created. Default 6. */
  partitions?: number
  /** Replication factor of created topics. Default 1 (a single-node broker). */
  replicationFactor?: number
}

function kafkaLogCreator(log: Logger) {
  return () =>
    ({ level, log: entry }: LogEntry) => {
      const { message, ...fields } = entry
      const child = { kafka: fields }
      if (level === KafkaLogLevel.ERROR) {
        log.error(child, message)
      } else if (level === KafkaLogLevel.WARN) {
        log.warn(child, message)
      } else {
        log.debug(child, message)
      }
    }
}

/** Whether kafkajs failed because a topic does not exist (anywhere in its chain of causes). */
function isMissingTopic(err: unknown, depth = 0): boolean {
  if (err === null || typeof err !== 'object' || depth > 5) {
    return false
  }

  const { type, cause, originalError } = err as {
    type?: unknown
    cause?: unknown
    originalError?: unknown
  }
  if (type === 'UNKNOWN_TOPIC_OR_PARTITION') {
    return true
  }

  return isMissingTopic(cause, depth + 1) || isMissingTopic(originalError, depth + 1)
}

const CLIENT_RETRY = { initialRetryTime: 200, retries: 5, maxRetryTime: 5_000 }
const RESTART_DELAY_MS = 5_000
const TOPIC_ATTEMPTS = 3

export class KafkaEventBus implements EventBus {
  readonly transport = 'kafka'
  readonly #kafka: Kafka
  readonly #log: Logger
  readonly #prefix: string
  readonly #partitions: number
  readonly #replication: number
  /** Each consumer, and whether it is in its group now (false after a crash, until it rejoins). */
  readonly #consumers = new Map<Consumer, { healthy: boolean }>()
  #producer: Producer | undefined
  #producerReady: Promise<Producer> | undefined

  constructor(options: KafkaEventBusOptions) {
    this.#log = options.logger.child({ component: 'kafka' })
    this.#prefix = options.topicPrefix ?? ''
    this.#partitions = options.partitions ?? 6
    this.#replication = options.replicationFactor ?? 1
    this.#kafka = new Kafka({
      clientId: options.clientId,
      brokers: [...options.brokers],
      logLevel: KafkaLogLevel.WARN,
      logCreator: kafkaLogCreator(this.#log),
      retry: CLIENT_RETRY,
      connectionTimeout: 3_000,
      requestTimeout: 10_000,
    })
  }

  #topic(name: string): string {
    return `${this.#prefix}${name}`
  }

  async ensureTopics(topics: readonly TopicName[]): Promise<void> {
    // A busy broker can be slow to elect leaders for new partitions: look again and create
    // what is still missing, a few times, before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#createMissingTopics(topics)

        return
      } catch (err) {
        if (attempt >= TOPIC_ATTEMPTS) {
          throw new AppError('EVT_TOPICS_FAILED', 'could not create topics', {
            cause: err,
            retryable: true,
          })
        }
        this.#log.warn({ err, attempt }, 'topic creation failed, retrying')
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt))
      }
    }
  }

  async #createMissingTopics(topics: readonly TopicName[]): Promise<void> {
    const admin = this.#kafka.admin()
    try {
      await admin.connect()
      const existing = new Set(await admin.listTopics())
      const wanted = topics.flatMap((topic) => [
        { topic: this.#topic(topic), numPartitions: this.#partitions },
        { topic: this.#topic(deadLetterTopicOf(topic)), numPartitions: 1 },
      ])
      const missing = wanted.filter((t) => !existing.has(t.topic))
      if (missing.length > 0) {
        await admin.createTopics({
          waitForLeaders: true,
          timeout: 15_000,
          topics: missing.map((t) => ({ ...t, replicationFactor: this.#replication })),
        })
        this.#log.info({ topics: missing.map((t) => t.topic) }, 'topics created')
      }
    } finally {
      await admin.disconnect()
    }
  }

  async #getProducer(): Promise<Producer> {
    if (this.#producerReady === undefined) {
      const producer = this.#kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
      })
      this.#producerReady = producer.connect().then(
        () => {
          this.#producer = producer

          return producer
        },
        (err: unknown) => {
          this.#producerReady = undefined
          throw err
        },
      )
    }

    return this.#producerReady
  }

  async publish(events: readonly AnyCloudEvent[]): Promise<void> {
    if (events.length === 0) {
      return
    }

    const byTopic = new Map<string, { key: string; value: string; headers: IHeaders }[]>()
    for (const event of events) {
      validateEvent(event)
      const topic = this.#topic(topicOf(event.type))
      const messages = byTopic.get(topic) ?? []
      messages.push({
        key: event.partitionkey,
        value: JSON.stringify(event),
        headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE },
      })
      byTopic.set(topic, messages)
    }

    try {
      const producer = await this.#getProducer()
      await producer.sendBatch({
        acks: -1,
        compression: CompressionTypes.None,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      })
    } catch (err) {
      // A producer that gave up may keep a dead connection: start afresh on the next publish.
      await this.#resetProducer()
      if (isMissingTopic(err)) {
        const topics = new Set(events.map((event) => topicOf(event.type)))
        await this.ensureTopics([...topics]).catch(() => undefined)
      }
      throw new AppError('EVT_PUBLISH_FAILED', 'could not publish to kafka', {
        cause: err,
        retryable: true,
      })
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const topic = this.#topic(options.topic)
    const deadLetterTopic = this.#topic(deadLetterTopicOf(options.topic))
    const log = this.#log.child({ group: options.group, topic })
    const retry = resolveRetryPolicy(options.retry)
    const maxBatch = options.maxBatchSize ?? 100
    const consumer = this.#kafka.consumer({
      groupId: options.group,
      allowAutoTopicCreation: false,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxWaitTimeInMs: 100,
      retry: {
        ...CLIENT_RETRY,
        // kafkajs restarts a crashed consumer at once, over and over (a deleted topic, say):
        // wait between restarts so the log and the broker are not flooded.
        restartOnFailure: async (err) => {
          await new Promise((resolve) => setTimeout(resolve, RESTART_DELAY_MS))
          // A broker that lost its data (a fresh dev broker) has no topics: make them again.
          if (isMissingTopic(err)) {
            await this.ensureTopics([options.topic]).catch(() => undefined)
          }

          return true
        },
      },
    })
    const state = { healthy: true }
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      state.healthy = false
      log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed')
    })
    consumer.on(consumer.events.GROUP_JOIN, () => {
      state.healthy = true
    })
    let closing = false

    const deadLetter = async (letters: DeadLetter[]) => {
      const producer = await this.#getProducer()
      await producer.send({
        topic: deadLetterTopic,
        acks: -1,
        messages: letters.map((letter) => ({
          key: letter.eventId ?? null,
          value: letter.message.body,
          headers: {
            'content-type': CLOUDEVENTS_CONTENT_TYPE,
            'x-dead-letter-reason': letter.reason,
            'x-dead-letter-topic': topic,
            'x-dead-letter-group': options.group,
            'x-dead-letter-position': letter.message.position,
          },
        })),
      })
    }

    const eachBatch = async (payload: EachBatchPayload) => {
      const { batch } = payload
      for (let start = 0; start < batch.messages.length; start += maxBatch) {
        if (closing || !payload.isRunning() || payload.isStale()) {
          return
        }

        const chunk = batch.messages.slice(start, start + maxBatch)
        const raw: RawMessage[] = chunk.map((m) => ({
          body: m.value,
          position: `${batch.partition}:${m.offset}`,
        }))
        const done = await deliverBatch(raw, {
          handle: options.handle,
          retry,
          log,
          deadLetter,
          isActive: () => !closing && payload.isRunning() && !payload.isStale(),
          heartbeat: () => payload.heartbeat(),
        })
        if (!done) {
          return
        }

        const last = chunk[chunk.length - 1]
        if (last !== undefined) {
          payload.resolveOffset(last.offset)
          await consumer.commitOffsets([
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: (BigInt(last.offset) + 1n).toString(),
            },
          ])
        }
        await payload.heartbeat()
      }
    }

    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 3,
      eachBatch,
    })
    this.#consumers.set(consumer, state)
    log.info('subscribed')

    return {
      close: async () => {
        closing = true
        this.#consumers.delete(consumer)
        await consumer.disconnect()
        log.info('unsubscribed')
      },
    }
  }

  async ping(): Promise<void> {
    const crashed = [...this.#consumers.values()].filter((s) => !s.healthy).length
    if (crashed > 0) {
      throw new AppError(
        'EVT_CONSUMER_DOWN',
        `${crashed} consumer(s) crashed and have not rejoined`,
        {
          retryable: true,
        },
      )
    }

    const admin = this.#kafka.admin()
    try {
      await admin.connect()
      await admin.describeCluster()
    } catch (err) {
      throw new AppError('EVT_BROKER_UNREACHABLE', 'kafka is unreachable', {
        cause: err,
        retryable: true,
      })
    } finally {
      await admin.disconnect().catch(() => undefined)
    }
  }

  async #resetProducer(): Promise<void> {
    const producer = this.#producer
    this.#producer = undefined
    this.#producerReady = undefined
    await producer?.disconnect().catch(() => undefined)
  }

  async close(): Promise<void> {
    await Promise.all([...this.#consumers.keys()].map((consumer) => consumer.disconnect()))
    this.#consumers.clear()
    await this.#resetProducer()
  }
}

// Real Kafka for one test: the broker in KAFKA_BROKERS (npm test starts one), with topics
// under a random prefix so tests never see each other's events.
import { Kafka, logLevel } from 'kafkajs'
import type { Test } from 'tap'

import { KafkaEventBus } from '../../src/events/kafka/kafka-event-bus.js'
import { TOPICS } from '../../src/events/catalogue.js'
import { randomName, testLogger } from './test-database.js'

export function kafkaBrokers(): string[] {
  const brokers = process.env.KAFKA_BROKERS
  if (brokers === undefined || brokers === '') {
    throw new Error('KAFKA_BROKERS is not set: run the tests with `npm test`, which starts Kafka')
  }

  return brokers.split(',')
}

export interface TestKafka {
  bus: KafkaEventBus
  prefix: string
  brokers: string[]
}

export async function createTestKafkaBus(
  t: Test,
  prefix = `${randomName('t')}.`,
): Promise<TestKafka> {
  const brokers = kafkaBrokers()
  const bus = new KafkaEventBus({
    brokers,
    clientId: 'taskstream-test',
    topicPrefix: prefix,
    logger: testLogger,
    partitions: 3,
  })
  await bus.ensureTopics(Object.values(TOPICS))
  t.teardown(async () => {
    await bus.close()
    await deleteTopicsWithPrefix(brokers, prefix)
  })

  return { bus, prefix, brokers }
}

async function deleteTopicsWithPrefix(brokers: string[], prefix: string): Promise<void> {
  const admin = new Kafka({
    brokers,
    clientId: 'taskstream-test-cleanup',
    logLevel: logLevel.NOTHING,
  }).admin()
  await admin.connect()
  try {
    const topics = (await admin.listTopics()).filter((topic) => topic.startsWith(prefix))
    if (topics.length > 0) {
      await admin.deleteTopics({ topics })
    }
  } finally {
    await admin.disconnect()
  }
}

/** Reads every message on a topic from the start, as a separate consumer group would. */
export async function readTopic(
  brokers: string[],
  topic: string,
  expected: number,
  timeoutMs = 20_000,
): Promise<
  { key: string | null; value: string; headers: Record<string, string>; partition: number }[]
> {
  const kafka = new Kafka({
    brokers,
    clientId: 'taskstream-test-reader',
    logLevel: logLevel.NOTHING,
  })
  const consumer = kafka.consumer({ groupId: randomName('reader'), maxWaitTimeInMs: 100 })
  const seen: {
    key: string | null
    value: string
    headers: Record<string, string>
    partition: number
  }[] = []
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`saw ${seen.length} of ${expected} messages on ${topic}`)),
        timeoutMs,
      )
      void consumer.run({
        eachMessage: ({ message, partition }) => {
          const headers = Object.fromEntries(
            Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
          )
          seen.push({
            key: message.key?.toString() ?? null,
            value: message.value?.toString() ?? '',
            headers,
            partition,
          })
          if (seen.length >= expected) {
            clearTimeout(timer)
            resolve()
          }

          return Promise.resolve()
        },
      })
    })
  } finally {
    await consumer.disconnect()
  }

  return seen
}

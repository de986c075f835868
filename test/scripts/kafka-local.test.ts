// Smoke test for the broker of scripts/kafka-local.ts: kafkajs can create a topic, produce
// idempotently and consume in order through a consumer group. Needs KAFKA_BROKERS (npm test sets it).
import { randomUUID } from 'node:crypto'
import { Kafka, logLevel, Partitioners, type Consumer } from 'kafkajs'
import t from 'tap'

const CONSUME_TIMEOUT_MS = 30_000
// A fresh broker answers the first coordinator lookups with retriable errors that kafkajs logs at
// ERROR and then retries; real failures still reject the awaited calls below.
const LOG_LEVEL = logLevel.NOTHING

void t.test(
  'kafka-local broker should deliver idempotently produced messages in order',
  async (t) => {
    const brokers = process.env.KAFKA_BROKERS
    if (brokers === undefined || brokers === '') {
      t.fail(
        'KAFKA_BROKERS is not set: run npm test, or npm run services:up and export what it prints',
      )

      return
    }

    const kafka = new Kafka({
      clientId: 'kafka-local-test',
      brokers: brokers.split(','),
      logLevel: LOG_LEVEL,
    })
    const topic = `test.kafka-local.${randomUUID()}`
    const admin = kafka.admin()
    await admin.connect()
    t.teardown(() => admin.disconnect())

    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    })
    t.ok(created, 'topic is created')
    t.teardown(() => admin.deleteTopics({ topics: [topic] }))

    const producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
    })
    await producer.connect()
    t.teardown(() => producer.disconnect())
    const values = ['first', 'second', 'third']
    const messages = values.map((value, index) => ({ key: `k${index}`, value }))
    const [record] = await producer.send({ topic, acks: -1, messages })
    t.equal(record?.errorCode, 0, 'the broker acknowledges the batch')

    const consumer = kafka.consumer({ groupId: `test.kafka-local.${randomUUID()}` })
    t.teardown(() => consumer.disconnect())
    const received = await consume(consumer, topic, values.length)
    t.same(received, values, 'messages arrive in the order they were produced')
  },
)

async function consume(consumer: Consumer, topic: string, count: number): Promise<string[]> {
  const received: string[] = []
  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `consumer got ${received.length} of ${count} messages in ${CONSUME_TIMEOUT_MS} ms`,
        ),
      )
    }, CONSUME_TIMEOUT_MS)
    consumer
      .run({
        eachMessage: ({ message }) => {
          received.push(message.value?.toString('utf8') ?? '')
          if (received.length >= count) {
            clearTimeout(timer)
            resolve(received)
          }

          return Promise.resolve()
        },
      })
      .catch((error: unknown) => {
        clearTimeout(timer)
        reject(error instanceof Error ? error : new Error(String(error)))
      })
  })
}

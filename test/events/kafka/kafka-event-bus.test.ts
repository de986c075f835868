import t from 'tap'

import type { AnyCloudEvent } from '../../../src/events/cloud-event.js'
import { AppError } from '../../../src/shared/errors.js'
import { FIXTURE_TASK_ID, reminderFired } from '../../helpers/fixtures.js'
import { randomName } from '../../helpers/test-database.js'
import { createTestKafkaBus, readTopic } from '../../helpers/test-kafka.js'

const reminderEvent = (taskId: string, n: number) => reminderFired(n, { taskId })

const TASK = FIXTURE_TASK_ID

t.test(
  'kafka event bus should deliver events in order and commit only after success',
  async (t) => {
    const { bus } = await createTestKafkaBus(t)
    const group = randomName('g')
    const events = [1, 2, 3].map((n) => reminderEvent(TASK, n))
    await bus.publish(events)

    let failures = 0
    const received: number[] = []
    const subscription = await bus.subscribe({
      group,
      topic: 'notifications',
      retry: { initialDelayMs: 10 },
      handle: (batch) => {
        if (failures < 2) {
          failures++
          throw new AppError('TEST_FLAKY', 'flaky handler', { retryable: true })
        }
        for (const event of batch) {
          received.push((event.data as { lateMs: number }).lateMs)
        }

        return Promise.resolve()
      },
    })
    while (received.length < 3) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await subscription.close()
    t.same(received, [1, 2, 3], 'retried, then delivered in order')

    // A new member of the same group starts after the committed offset: nothing is redelivered.
    const again: AnyCloudEvent[] = []
    const second = await bus.subscribe({
      group,
      topic: 'notifications',
      handle: (batch) => {
        again.push(...batch)

        return Promise.resolve()
      },
    })
    await bus.publish([reminderEvent(TASK, 4)])
    while (again.length < 1) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await second.close()
    t.same(
      again.map((e) => (e.data as { lateMs: number }).lateMs),
      [4],
    )
  },
)

t.test(
  'kafka event bus should dead-letter invalid and unmendable events and keep flowing',
  async (t) => {
    const { bus, prefix, brokers } = await createTestKafkaBus(t)
    const good = reminderEvent(TASK, 1)
    const poison = reminderEvent(TASK, 2)
    const after = reminderEvent(TASK, 3)
    await bus.publish([good, poison, after])

    const handled: number[] = []
    const subscription = await bus.subscribe({
      group: randomName('g'),
      topic: 'notifications',
      handle: (batch) => {
        if (batch.some((e) => e.id === poison.id)) {
          throw new AppError('TEST_POISON', 'cannot handle this one')
        }
        handled.push(...batch.map((e) => (e.data as { lateMs: number }).lateMs))

        return Promise.resolve()
      },
    })
    const letters = await readTopic(brokers, `${prefix}notifications.dlq`, 1)
    while (handled.length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await subscription.close()

    t.same(handled.sort(), [1, 3], 'the events around the poison one were handled')
    t.equal(letters.length, 1)
    t.equal(letters[0]?.headers['x-dead-letter-reason'], 'TEST_POISON: cannot handle this one')
    t.equal((JSON.parse(letters[0]?.value ?? '{}') as { id: string }).id, poison.id)
  },
)

t.test('kafka event bus should refuse to publish an event that breaks its schema', async (t) => {
  const { bus } = await createTestKafkaBus(t)
  const broken = { ...reminderEvent(TASK, 1), data: { taskId: 'nope' } } as unknown as AnyCloudEvent
  await t.rejects(bus.publish([broken]), { code: 'EVT_INVALID' })
})

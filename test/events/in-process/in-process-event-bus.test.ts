import t from 'tap'

import { InProcessEventBus } from '../../../src/events/in-process/in-process-event-bus.js'
import { AppError } from '../../../src/shared/errors.js'
import { reminderFired } from '../../helpers/fixtures.js'
import { testLogger } from '../../helpers/test-database.js'
import { eventually } from '../../helpers/test-system.js'

const fired = (n: number) => reminderFired(n)

t.test('in-process event bus should give every group every event, in order', async (t) => {
  const bus = new InProcessEventBus({ logger: testLogger })
  t.teardown(() => bus.close())
  const a: number[] = []
  const b: number[] = []
  await bus.subscribe({
    group: 'a',
    topic: 'notifications',
    handle: async (es) => void a.push(...es.map((e) => (e.data as { lateMs: number }).lateMs)),
  })
  await bus.publish([fired(1), fired(2)])
  await bus.subscribe({
    group: 'b',
    topic: 'notifications',
    handle: async (es) => void b.push(...es.map((e) => (e.data as { lateMs: number }).lateMs)),
  })
  await bus.publish([fired(3)])

  await eventually(async () => (a.length === 3 && b.length === 3 ? true : undefined), 2_000)
  t.same(a, [1, 2, 3])
  t.same(b, [1, 2, 3], 'a group that joins late starts from the beginning')
})

t.test(
  'in-process event bus should retry transient failures and dead-letter the rest',
  async (t) => {
    const bus = new InProcessEventBus({ logger: testLogger })
    t.teardown(() => bus.close())
    const handled: number[] = []
    let transient = 2
    await bus.subscribe({
      group: 'g',
      topic: 'notifications',
      retry: { initialDelayMs: 1, maxUnknownAttempts: 3 },
      handle: async (events) => {
        if (transient > 0) {
          transient--
          throw new AppError('TEST_DOWN', 'dependency down', { retryable: true })
        }
        if (events.some((e) => (e.data as { lateMs: number }).lateMs === 2)) {
          throw new AppError('TEST_BAD', 'cannot handle lateMs 2')
        }
        if (events.some((e) => (e.data as { lateMs: number }).lateMs === 4)) {
          throw new Error('unexpected')
        }
        handled.push(...events.map((e) => (e.data as { lateMs: number }).lateMs))
      },
    })
    bus.appendRaw('notifications', 'not json')
    await bus.publish([fired(1), fired(2), fired(3), fired(4), fired(5)])

    await eventually(
      async () => (bus.read('notifications.dlq').length === 3 ? true : undefined),
      5_000,
    )
    await eventually(async () => (handled.length === 3 ? true : undefined), 5_000)
    t.same(handled, [1, 3, 5])
    t.same(
      bus.read('notifications.dlq').map((r) => r.reason),
      [
        'EVT_INVALID: message body is not json',
        'TEST_BAD: cannot handle lateMs 2',
        'retries exhausted: unexpected',
      ],
    )
  },
)

t.test(
  'in-process event bus should drop what every group has handled, and nothing else',
  async (t) => {
    const bus = new InProcessEventBus({ logger: testLogger })
    t.teardown(() => bus.close())
    let fast = 0
    let slow = 0
    let slowBlocked = true
    await bus.subscribe({
      group: 'fast',
      topic: 'notifications',
      handle: async (es) => void (fast += es.length),
    })
    await bus.subscribe({
      group: 'slow',
      topic: 'notifications',
      handle: async (es) => {
        while (slowBlocked) {
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        slow += es.length
      },
    })
    await bus.publish(Array.from({ length: 2_500 }, (_, i) => fired(i)))

    await eventually(async () => (fast === 2_500 ? true : undefined), 5_000)
    t.equal(bus.read('notifications').length, 2_500, 'a group still behind keeps every record')
    slowBlocked = false
    await eventually(async () => (slow === 2_500 ? true : undefined), 5_000)
    t.ok(bus.read('notifications').length < 1_000, 'once every group has read them, records go')
  },
)

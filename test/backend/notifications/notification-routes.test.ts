// Notifications end to end in real time: a reminder fired by the reminder role reaches the
// user's list and live stream through Kafka; reconnecting streams resume with Last-Event-ID.
import t, { type Test } from 'tap'

import { createEvent, type CloudEvent } from '../../../src/events/cloud-event.js'
import { reminderFiredEvent } from '../../../src/workers/reminder/reminder-event.js'
import { createTestKafkaBus } from '../../helpers/test-kafka.js'
import { eventually, startTestSystem, type TestSystem } from '../../helpers/test-system.js'

interface SseEvent {
  id: string | undefined
  event: string | undefined
  data: any
}

/** An open stream: `next(n)` resolves with the first n events it received. */
async function openStream(t: Test, system: TestSystem, user: string, lastEventId?: string) {
  const aborter = new AbortController()
  const headers: Record<string, string> = { authorization: `Bearer ${await system.tokenFor(user)}` }
  if (lastEventId !== undefined) {
    headers['last-event-id'] = lastEventId
  }
  const response = await fetch(`${system.url}/api/notifications/stream`, {
    headers,
    signal: aborter.signal,
  })
  t.teardown(() => aborter.abort())
  const events: SseEvent[] = []
  const waiters: (() => void)[] = []
  const reading = (async () => {
    const decoder = new TextDecoder()
    let text = ''
    for await (const chunk of response.body ?? []) {
      text += decoder.decode(chunk as Uint8Array, { stream: true })
      let end: number
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end)
        text = text.slice(end + 2)
        const fields = new Map<string, string>()
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':')
          if (colon > 0) {
            fields.set(line.slice(0, colon), line.slice(colon + 1).trimStart())
          }
        }
        if (fields.has('data')) {
          events.push({
            id: fields.get('id'),
            event: fields.get('event'),
            data: JSON.parse(fields.get('data') ?? ''),
          })
          waiters.splice(0).forEach((wake) => wake())
        }
      }
    }
  })().catch(() => undefined)

  return {
    response,
    events,
    async next(count: number): Promise<SseEvent[]> {
      while (events.length < count) {
        await new Promise<void>((resolve) => waiters.push(resolve))
      }

      return events.slice(0, count)
    },
    async close() {
      aborter.abort()
      await reading
    },
  }
}

function firedFor(user: string, index: number): CloudEvent<'reminder.fired'> {
  const remindAt = new Date(Date.parse('2030-01-01T00:00:00Z') + index * 60_000)
  const taskId = `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`
  const event = reminderFiredEvent(
    {
      taskId,
      userId: user,
      title: `task ${index}`,
      dueAt: new Date(remindAt.getTime() + 600_000),
      remindAt,
    },
    new Date(remindAt.getTime() + 3),
  )

  return event
}

async function storedCount(system: TestSystem, user: string): Promise<number> {
  const rows = await system.database.db
    .selectFrom('notifications')
    .select('id')
    .where('user_id', '=', user)
    .execute()

  return rows.length
}

t.test(
  'notifications should deliver a reminder fired in real time to the list and the live stream',
  async (t) => {
    const kafka = await createTestKafkaBus(t)
    const system = await startTestSystem(t, { bus: kafka.bus, roles: ['reminder'] })
    const stream = await openStream(t, system, 'alice')
    t.equal(stream.response.status, 200)
    t.match(stream.response.headers.get('content-type'), /^text\/event-stream/)

    // A reminder 1.5 s from now: due a minute later, with a one-minute offset.
    const remindAt = Date.now() + 1_500
    const created = await system.request('alice', 'POST', '/api/tasks', {
      title: 'Water the plants',
      dueAt: new Date(remindAt + 60_000).toISOString(),
      reminderOffsetMinutes: 1,
    })
    t.equal(created.status, 201)

    const [live] = await stream.next(1)
    t.equal(live?.event, 'reminder.fired')
    t.match(live?.data, {
      type: 'reminder.fired',
      taskId: created.body.id,
      data: {
        taskId: created.body.id,
        userId: 'alice',
        title: 'Water the plants',
        remindAt: new Date(remindAt).toISOString(),
      },
    })
    t.ok((live?.data.data.lateMs as number) >= 0, 'never early')
    t.equal(live?.id, String(live?.data.sequence), 'the event id is the sequence')

    const list = await system.request('alice', 'GET', '/api/notifications')
    t.equal(list.status, 200)
    t.same(list.body.items, [live?.data])
    t.equal(list.body.nextCursor, null)
    t.same(
      (await system.request('bob', 'GET', '/api/notifications')).body.items,
      [],
      'not another user’s',
    )
    await stream.close()
  },
)

t.test(
  'notification stream should replay what came after Last-Event-ID, then go on live',
  async (t) => {
    const kafka = await createTestKafkaBus(t)
    const system = await startTestSystem(t, { bus: kafka.bus })

    await kafka.bus.publish([
      firedFor('carol', 1),
      firedFor('carol', 2),
      firedFor('dave', 3),
      firedFor('carol', 4),
    ])
    await eventually(async () => ((await storedCount(system, 'carol')) === 3 ? true : undefined))
    const listed = await system.request('carol', 'GET', '/api/notifications')
    const sequences = (listed.body.items as { sequence: number }[]).map((item) => item.sequence)
    t.equal(sequences.length, 3)
    t.same(
      sequences,
      [...sequences].sort((a, b) => b - a),
      'newest first',
    )

    const oldest = String(sequences[2])
    const stream = await openStream(t, system, 'carol', oldest)
    const replayed = await stream.next(2)
    t.same(
      replayed.map((event) => event.id),
      [String(sequences[1]), String(sequences[0])],
      'the two after the last one seen, oldest first',
    )

    await kafka.bus.publish([firedFor('carol', 5)])
    const [, , live] = await stream.next(3)
    t.equal(live?.data.data.title, 'task 5')
    t.ok(Number(live?.id) > (sequences[0] ?? 0))
    t.equal(stream.events.length, 3, 'nothing twice')
    await stream.close()
  },
)

t.test('notifications should store a redelivered event once', async (t) => {
  const kafka = await createTestKafkaBus(t)
  const system = await startTestSystem(t, { bus: kafka.bus })
  const event = firedFor('erin', 1)

  await kafka.bus.publish([event, event])
  await kafka.bus.publish([event, firedFor('erin', 2)])
  await eventually(async () => ((await storedCount(system, 'erin')) === 2 ? true : undefined))
  const marker = createEvent(
    'reminder.fired',
    { ...firedFor('erin', 3).data },
    { source: '/test', key: event.subject },
  )
  await kafka.bus.publish([marker])
  await eventually(async () => ((await storedCount(system, 'erin')) === 3 ? true : undefined))

  const list = await system.request('erin', 'GET', '/api/notifications')
  t.equal(list.body.items.length, 3)
  t.equal((list.body.items as { id: string }[]).filter((item) => item.id === event.id).length, 1)
})

t.test('notifications list should page newest first with an opaque cursor', async (t) => {
  const system = await startTestSystem(t)
  await system.bus.publish([1, 2, 3, 4, 5].map((i) => firedFor('frank', i)))
  await eventually(async () => ((await storedCount(system, 'frank')) === 5 ? true : undefined))

  const first = await system.request('frank', 'GET', '/api/notifications?limit=2')
  const second = await system.request(
    'frank',
    'GET',
    `/api/notifications?limit=2&cursor=${first.body.nextCursor as string}`,
  )
  const third = await system.request(
    'frank',
    'GET',
    `/api/notifications?limit=2&cursor=${second.body.nextCursor as string}`,
  )
  const titles = [first, second, third].flatMap((page) =>
    (page.body.items as { data: { title: string } }[]).map((i) => i.data.title),
  )
  t.same(titles, ['task 5', 'task 4', 'task 3', 'task 2', 'task 1'])
  t.equal(third.body.nextCursor, null)

  const bad = await system.request('frank', 'GET', '/api/notifications?cursor=bm90LWEtY3Vyc29y')
  t.equal(bad.status, 400)
  t.equal(bad.body.code, 'API_INVALID_CURSOR')
  t.match(bad.headers.get('content-type'), /application\/problem\+json/)
  t.equal((await system.request('frank', 'GET', '/api/notifications?limit=0')).status, 400)
})

t.test(
  'notification stream should refuse a request without a token or with a bad Last-Event-ID',
  async (t) => {
    const system = await startTestSystem(t)

    const anonymous = await system.request(null, 'GET', '/api/notifications/stream')
    t.equal(anonymous.status, 401)
    t.equal(anonymous.body.code, 'API_UNAUTHORIZED')
    const bad = await system.request('gina', 'GET', '/api/notifications/stream', undefined, {
      'last-event-id': 'yesterday',
    })
    t.equal(bad.status, 400)
    t.equal(bad.body.code, 'API_VALIDATION')
  },
)

t.test('backend should stop while a notification stream is open', async (t) => {
  const system = await startTestSystem(t)
  const stream = await openStream(t, system, 'hank')
  t.equal(stream.response.status, 200)

  await system.backend.stop()
  await stream.close()
  t.pass('stopped')
})

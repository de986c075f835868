// Recurring tasks end to end on real Kafka and PostgreSQL: HTTP completion → outbox → tasks
// topic → recurrence role → task-commands → backend → next task (and its task.created → audit).
//
// "Nothing more happened" is shown without waiting on time: after the event under test, the test
// publishes a marker completion on the same partition key, asking for a far occurrence of the
// same series. Kafka keeps one key's order through both hops (task id, then series id), so
// once the marker's task exists, everything the event under test caused has been applied.
import t, { type Test } from 'tap'

import type { TaskSnapshot } from '../../src/events/catalogue.js'
import { createEvent, type AnyCloudEvent, type CloudEvent } from '../../src/events/cloud-event.js'
import { createTestKafkaBus, type TestKafka } from '../helpers/test-kafka.js'
import { eventually, startTestSystem, type TestSystem } from '../helpers/test-system.js'

const MARKER_OCCURRENCE = 100

function testClock(start: string) {
  let now = new Date(start).getTime()

  return {
    now: () => new Date(now),
    set(iso: string) {
      now = new Date(iso).getTime()
    },
  }
}

async function startRecurringSystem(t: Test, start: string) {
  const clock = testClock(start)
  const kafka = await createTestKafkaBus(t)
  const system = await startTestSystem(t, {
    bus: kafka.bus,
    roles: ['recurrence', 'audit'],
    now: clock.now,
  })

  return { clock, kafka, system }
}

async function seriesTasks(system: TestSystem, seriesId: string): Promise<TaskSnapshot[]> {
  const page = await system.request('alice', 'GET', '/api/tasks?limit=100&sort=dueAt')
  const items = page.body.items as TaskSnapshot[]

  return items
    .filter((task) => task.seriesId === seriesId)
    .sort((a, b) => (a.occurrence ?? 0) - (b.occurrence ?? 0))
}

async function occurrenceOf(
  system: TestSystem,
  seriesId: string,
  occurrence: number,
): Promise<TaskSnapshot> {
  return eventually(
    async () => (await seriesTasks(system, seriesId)).find((t) => t.occurrence === occurrence),
    20_000,
    `occurrence ${occurrence} of series ${seriesId}`,
  )
}

async function completedEvents(system: TestSystem, taskId: string) {
  const rows = await system.database.db.selectFrom('outbox').select('event').orderBy('id').execute()

  return rows
    .map((row) => row.event as unknown as AnyCloudEvent)
    .filter(
      (event): event is CloudEvent<'task.completed'> =>
        event.type === 'task.completed' && event.subject === taskId,
    )
}

/** Publishes a completion of `task` (same key) asking for the marker occurrence; waits for it. */
async function afterMarker(kafka: TestKafka, system: TestSystem, shown: TaskSnapshot) {
  // An API answer may carry more than the event snapshot (nextOccurrenceAt)
  const { nextOccurrenceAt: _next, ...task } = shown as TaskSnapshot & {
    nextOccurrenceAt?: unknown
  }
  const { count: _count, ...endless } = task.recurrence as { count?: number }
  const marker: TaskSnapshot = {
    ...task,
    title: 'marker',
    status: 'completed',
    recurrence: endless,
    occurrence: MARKER_OCCURRENCE - 1,
    completedAt: task.dueAt,
  }
  const event = createEvent(
    'task.completed',
    { task: marker, version: marker.version + 1, userId: marker.userId },
    { source: '/test', key: task.id },
  )
  await kafka.bus.publish([event])
  await occurrenceOf(system, task.seriesId ?? '', MARKER_OCCURRENCE)
}

t.test(
  'recurrence should create the next monthly task once, clamped to the month end, and audit it',
  async (t) => {
    const { kafka, system } = await startRecurringSystem(t, '2026-01-20T10:00:00Z')

    const created = await system.request('alice', 'POST', '/api/tasks', {
      title: 'Pay rent',
      description: 'by transfer',
      priority: 'high',
      tags: ['home'],
      dueAt: '2026-01-31T09:00',
      timeZone: 'Europe/Madrid',
      reminderOffsetMinutes: 60,
      recurrence: { kind: 'preset', preset: 'monthly' },
    })
    t.equal(created.status, 201)
    const first = created.body as TaskSnapshot
    t.equal(first.dueAt, '2026-01-31T08:00:00.000Z')

    const shown = await system.request('alice', 'GET', `/api/tasks/${first.id}`)
    t.equal(shown.body.seriesId, first.id, 'the first task starts the series')
    t.equal(shown.body.nextOccurrenceAt, '2026-02-28T08:00:00.000Z')

    const done = await system.request('alice', 'POST', `/api/tasks/${first.id}/complete`)
    t.equal(done.status, 200)
    const next = await occurrenceOf(system, first.id, 2)
    t.match(next, {
      title: 'Pay rent',
      description: 'by transfer',
      priority: 'high',
      tags: ['home'],
      status: 'open',
      dueAt: '2026-02-28T08:00:00.000Z',
      timeZone: 'Europe/Madrid',
      reminderOffsetMinutes: 60,
      recurrence: { kind: 'preset', preset: 'monthly' },
      seriesId: first.id,
      seriesAnchor: '2026-01-31T08:00:00.000Z',
      occurrence: 2,
    })
    const nextShown = await system.request('alice', 'GET', `/api/tasks/${next.id}`)
    t.equal(nextShown.body.nextOccurrenceAt, '2026-03-31T07:00:00.000Z', 'back on the 31st')

    const audited = await eventually(async () => {
      const rows = await system.database.db
        .selectFrom('audit_entries')
        .selectAll()
        .where('task_id', '=', next.id)
        .execute()

      return rows.length > 0 ? rows : undefined
    })
    t.equal(audited[0]?.type, 'task.created', "the next task's creation reaches the audit role")

    // The same completed event again: the same command, ignored by the backend
    await system.backend.relay.flush()
    const [completedEvent] = await completedEvents(system, first.id)
    if (completedEvent === undefined) {
      throw new Error('expected a task.completed event in the outbox')
    }
    await kafka.bus.publish([completedEvent])
    await afterMarker(kafka, system, first)

    const series = await seriesTasks(system, first.id)
    t.same(
      series.map((task) => task.occurrence),
      [1, 2, MARKER_OCCURRENCE],
      'one next task after a completed event delivered twice',
    )
  },
)

t.test(
  'recurrence should create one next task for a task completed, reopened and completed again',
  async (t) => {
    const { clock, kafka, system } = await startRecurringSystem(t, '2026-03-01T07:00:00Z')

    const created = await system.request('alice', 'POST', '/api/tasks', {
      title: 'Stand-up notes',
      dueAt: '2026-03-02T09:00',
      timeZone: 'Europe/Madrid',
      recurrence: { kind: 'cron', expression: '0 9 * * 1-5' },
    })
    const first = created.body as TaskSnapshot
    await system.request('alice', 'POST', `/api/tasks/${first.id}/complete`)
    const next = await occurrenceOf(system, first.id, 2)
    t.equal(next.dueAt, '2026-03-03T08:00:00.000Z')

    const reopened = await system.request('alice', 'PATCH', `/api/tasks/${first.id}`, {
      status: 'open',
    })
    t.equal(reopened.body.status, 'open')
    // Completed again days later: the second command asks for occurrence 2 with a later date
    clock.set('2026-03-05T12:00:00Z')
    const again = await system.request('alice', 'POST', `/api/tasks/${first.id}/complete`)
    t.equal(again.body.status, 'completed')
    await system.backend.relay.flush()
    t.equal((await completedEvents(system, first.id)).length, 2, 'two completions')
    await afterMarker(kafka, system, first)

    const series = await seriesTasks(system, first.id)
    t.same(
      series.map((task) => task.occurrence),
      [1, 2, MARKER_OCCURRENCE],
    )
    t.equal(series[1]?.dueAt, '2026-03-03T08:00:00.000Z', 'the first request wins')
  },
)

t.test('recurrence should create nothing after the last task of a counted series', async (t) => {
  const { kafka, system } = await startRecurringSystem(t, '2026-03-01T07:00:00Z')

  const created = await system.request('alice', 'POST', '/api/tasks', {
    title: 'Twice only',
    dueAt: '2026-03-02T09:00',
    timeZone: 'Europe/Madrid',
    recurrence: { kind: 'preset', preset: 'weekly', count: 2 },
  })
  const first = created.body as TaskSnapshot
  await system.request('alice', 'POST', `/api/tasks/${first.id}/complete`)
  const second = await occurrenceOf(system, first.id, 2)
  t.equal(second.dueAt, '2026-03-09T08:00:00.000Z')
  const shown = await system.request('alice', 'GET', `/api/tasks/${second.id}`)
  t.equal(shown.body.nextOccurrenceAt, null, 'the second task is the last')

  await system.request('alice', 'POST', `/api/tasks/${second.id}/complete`)
  await system.backend.relay.flush()
  await afterMarker(kafka, system, second)

  const series = await seriesTasks(system, first.id)
  t.same(
    series.map((task) => task.occurrence),
    [1, 2, MARKER_OCCURRENCE],
    'no third task',
  )
})

t.test('task API should reject a recurrence that is invalid or never fires', async (t) => {
  const system = await startTestSystem(t)
  const body = (recurrence: unknown, timeZone = 'Europe/Madrid') => ({
    title: 'Invalid',
    dueAt: '2026-03-02T09:00',
    timeZone,
    recurrence,
  })
  const cases: { name: string; body: unknown; code: string; detail: RegExp }[] = [
    {
      name: 'a rule that never fires',
      body: body({ kind: 'cron', expression: '0 0 30 2 *' }),
      code: 'API_RULE_NEVER_FIRES',
      detail: /never fires: 0 0 30 2 \*/,
    },
    {
      name: 'an unknown preset',
      body: body({ kind: 'preset', preset: 'fortnightly' }),
      code: 'API_UNKNOWN_PRESET',
      detail: /fortnightly/,
    },
    {
      name: 'both an end date and a count',
      body: body({ kind: 'preset', preset: 'daily', until: '2027-01-01T00:00:00Z', count: 3 }),
      code: 'API_CONFLICTING_RULE_END',
      detail: /until|count/,
    },
    {
      name: 'a bad cron expression',
      body: body({ kind: 'cron', expression: '61 * * * *' }),
      code: 'API_INVALID_CRON',
      detail: /61 \* \* \* \*/,
    },
    {
      name: 'an unknown time zone',
      body: body({ kind: 'preset', preset: 'daily' }, 'Mars/Olympus_Mons'),
      code: 'API_UNKNOWN_TIME_ZONE',
      detail: /Mars\/Olympus_Mons/,
    },
  ]

  for (const c of cases) {
    const answer = await system.request('alice', 'POST', '/api/tasks', c.body)
    t.equal(answer.status, 400, c.name)
    t.match(answer.headers.get('content-type'), /application\/problem\+json/)
    t.equal(answer.body.code, c.code, c.name)
    t.match(answer.body.detail, c.detail, c.name)
  }

  const none = await system.request('alice', 'GET', '/api/tasks')
  t.same(none.body.items, [], 'nothing was created')

  const oneOff = await system.request('alice', 'POST', '/api/tasks', { title: 'Once' })
  const shown = await system.request('alice', 'GET', `/api/tasks/${oneOff.body.id as string}`)
  t.equal(shown.body.seriesId, null)
  t.equal(shown.body.nextOccurrenceAt, null, 'a one-off task has no next occurrence')
})

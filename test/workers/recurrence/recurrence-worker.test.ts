// The recurrence role: which command a completed task yields (the shared corpus included), and
// the role itself on the in-process bus. The backend's side is in test/e2e/recurrence.test.ts.

import t from 'tap'

import { TOPICS, type TaskSnapshot } from '../../../src/events/catalogue.js'
import {
  createEvent,
  type AnyCloudEvent,
  type CloudEvent,
} from '../../../src/events/cloud-event.js'
import { InProcessEventBus } from '../../../src/events/in-process/in-process-event-bus.js'
import { loadConfig } from '../../../src/shared/config.js'
import type { DatabaseHandle } from '../../../src/shared/db/database.js'
import { nextDueOf } from '../../../src/shared/recurrence/task-recurrence.js'
import {
  nextOccurrenceCommand,
  occurrenceCommandId,
  startRecurrenceWorker,
} from '../../../src/workers/recurrence/recurrence-worker.js'
import { randomName, testLogger } from '../../helpers/test-database.js'
import { eventually } from '../../helpers/test-system.js'
import { recurrenceCorpus } from '../../helpers/fixtures.js'

const corpus = recurrenceCorpus()

const SERIES = '0b8f5e0a-3c1d-4e2f-9a6b-7c8d9e0f1a2b'

function recurringTask(fields: Partial<TaskSnapshot> & { dueAt: string }): TaskSnapshot {
  return {
    id: SERIES,
    userId: 'alice',
    title: 'Pay rent',
    description: 'by transfer',
    priority: 'high',
    tags: ['home'],
    status: 'completed',
    timeZone: 'Europe/Madrid',
    reminderOffsetMinutes: 60,
    recurrence: { kind: 'preset', preset: 'monthly' },
    seriesId: SERIES,
    seriesAnchor: fields.dueAt,
    occurrence: 1,
    completedAt: fields.dueAt,
    version: 2,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  }
}

function completed(task: TaskSnapshot): CloudEvent<'task.completed'> {
  return createEvent(
    'task.completed',
    { task, version: task.version, userId: task.userId },
    { source: '/test', key: task.id },
  )
}

/** Completes each task on time and follows the series, as the role and backend would. */
function follow(first: TaskSnapshot, steps: number): string[] {
  const dues: string[] = []
  let task = first
  for (let i = 0; i < steps; i++) {
    const command = nextOccurrenceCommand(completed(task))
    if (command === null) {
      break
    }
    dues.push(command.data.dueAt)
    task = { ...task, ...command.data, completedAt: command.data.dueAt }
  }

  return dues
}

t.test('occurrenceCommandId should be a stable version-5 UUID per series and occurrence', (t) => {
  const id = occurrenceCommandId(SERIES, 2)
  t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  t.equal(occurrenceCommandId(SERIES, 2), id, 'same input, same id')
  t.not(occurrenceCommandId(SERIES, 3), id, 'another occurrence, another id')
  t.not(occurrenceCommandId('1b8f5e0a-3c1d-4e2f-9a6b-7c8d9e0f1a2b', 2), id)
  t.end()
})

t.test('nextDueOf should give every corpus case, one completion after another', (t) => {
  for (const c of corpus) {
    const seen: string[] = []
    let task = recurringTask({
      dueAt: c.after,
      timeZone: c.timezone,
      recurrence: { kind: 'cron', expression: c.cron },
    })
    for (let i = 0; i < c.next.length; i++) {
      const next = nextDueOf(task, new Date(task.dueAt ?? ''))
      if (next === null) {
        break
      }
      seen.push(next.toISOString())
      task = { ...task, dueAt: next.toISOString(), occurrence: (task.occurrence ?? 1) + 1 }
    }
    t.same(
      seen,
      c.next.map((iso) => new Date(iso).toISOString()),
      `${c.cron} in ${c.timezone} after ${c.after}`,
    )
  }
  t.end()
})

t.test('nextOccurrenceCommand should keep a monthly series on the 31st, clamped', (t) => {
  const first = recurringTask({ dueAt: '2026-01-31T08:00:00.000Z' })
  const command = nextOccurrenceCommand(completed(first))

  t.same(command?.data, {
    seriesId: SERIES,
    occurrence: 2,
    userId: 'alice',
    previousTaskId: SERIES,
    dueAt: '2026-02-28T08:00:00.000Z',
    seriesAnchor: '2026-01-31T08:00:00.000Z',
    title: 'Pay rent',
    description: 'by transfer',
    priority: 'high',
    tags: ['home'],
    timeZone: 'Europe/Madrid',
    reminderOffsetMinutes: 60,
    recurrence: { kind: 'preset', preset: 'monthly' },
  })
  t.equal(command?.type, 'task.create.requested')
  t.equal(command?.partitionkey, SERIES, 'keyed by series')
  t.equal(command?.id, occurrenceCommandId(SERIES, 2))
  // 09:00 Madrid: CET in winter, CEST from March 29
  t.same(follow(first, 3), [
    '2026-02-28T08:00:00.000Z',
    '2026-03-31T07:00:00.000Z',
    '2026-04-30T07:00:00.000Z',
  ])
  t.end()
})

t.test('nextOccurrenceCommand should never ask for a task already overdue', (t) => {
  const daily = recurringTask({
    dueAt: '2026-03-02T08:00:00.000Z',
    recurrence: { kind: 'preset', preset: 'daily' },
    completedAt: '2026-03-05T12:00:00.000Z',
  })
  const command = nextOccurrenceCommand(completed(daily))

  t.equal(command?.data.dueAt, '2026-03-06T08:00:00.000Z', 'after the completion, not the due')
  t.equal(command?.data.occurrence, 2, 'the task number goes up by one')

  const early = { ...daily, completedAt: '2026-02-20T12:00:00.000Z' }
  t.equal(
    nextOccurrenceCommand(completed(early))?.data.dueAt,
    '2026-03-03T08:00:00.000Z',
    'completing early still moves on from the due date',
  )
  t.end()
})

t.test('nextOccurrenceCommand should ask for nothing once the series has ended', (t) => {
  const count = recurringTask({
    dueAt: '2026-03-02T08:00:00.000Z',
    recurrence: { kind: 'preset', preset: 'daily', count: 3 },
  })
  t.same(follow(count, 5), ['2026-03-03T08:00:00.000Z', '2026-03-04T08:00:00.000Z'])

  // A late completion skips occurrence 2; the skipped one still counts towards the 3
  const late = { ...count, completedAt: '2026-03-03T12:00:00.000Z' }
  const third = nextOccurrenceCommand(completed(late))
  t.equal(third?.data.dueAt, '2026-03-04T08:00:00.000Z')
  t.equal(third?.data.occurrence, 2)
  const afterThird = { ...late, ...third?.data, completedAt: third?.data.dueAt ?? '' }
  t.equal(nextOccurrenceCommand(completed(afterThird)), null, 'the third was the last')

  const until = recurringTask({
    dueAt: '2026-03-02T08:00:00.000Z',
    recurrence: { kind: 'preset', preset: 'weekly', until: '2026-03-20T00:00:00Z' },
  })
  t.same(follow(until, 5), ['2026-03-09T08:00:00.000Z', '2026-03-16T08:00:00.000Z'])

  const oneOff = recurringTask({
    dueAt: '2026-03-02T08:00:00.000Z',
    recurrence: null,
    seriesId: null,
    seriesAnchor: null,
    occurrence: null,
  })
  t.equal(nextOccurrenceCommand(completed(oneOff)), null, 'a one-off task')
  t.end()
})

t.test('nextOccurrenceCommand should reject a stored rule that no longer validates', (t) => {
  const broken = recurringTask({
    dueAt: '2026-03-02T08:00:00.000Z',
    recurrence: { kind: 'preset', preset: 'fortnightly' },
  })
  t.throws(() => nextOccurrenceCommand(completed(broken)), {
    code: 'WRK_RECURRENCE_INVALID_RULE',
    retryable: false,
  })
  t.end()
})

t.test(
  'recurrence role should request the same occurrence for a repeated or second completion',
  async (t) => {
    const bus = new InProcessEventBus({ logger: testLogger })
    await bus.ensureTopics(Object.values(TOPICS))
    t.teardown(() => bus.close())
    const commands: AnyCloudEvent[] = []
    const listener = await bus.subscribe({
      group: randomName('g-commands'),
      topic: TOPICS.taskCommands,
      handle: (events) => {
        commands.push(...events)

        return Promise.resolve()
      },
    })
    t.teardown(() => listener.close())
    const role = await startRecurrenceWorker({
      config: loadConfig({}),
      // The role keeps no state: it never touches the database
      database: undefined as unknown as DatabaseHandle,
      bus,
      logger: testLogger,
      group: randomName('g-recurrence'),
    })
    t.teardown(() => role.stop())

    const first = recurringTask({ dueAt: '2026-01-31T08:00:00.000Z' })
    const event = completed(first)
    const again = completed({ ...first, completedAt: '2026-03-01T10:00:00.000Z', version: 4 })
    const oneOff = completed({ ...first, recurrence: null, seriesId: null, occurrence: null })
    await bus.publish([event, event, oneOff, again])

    await eventually(async () => (commands.length >= 3 ? true : undefined))
    t.equal(commands.length, 3, 'one command per completion of a recurring task')
    t.same(new Set(commands.map((c) => c.id)).size, 1, 'all with one id')
    t.same(
      commands.map((c) => (c.type === 'task.create.requested' ? c.data.dueAt : undefined)),
      ['2026-02-28T08:00:00.000Z', '2026-02-28T08:00:00.000Z', '2026-03-31T07:00:00.000Z'],
      'the later completion asks for a later date; the backend keeps the first',
    )
  },
)

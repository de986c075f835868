// The schedule rules on a fixed clock: no database, no broker.
import { randomUUID } from 'node:crypto'

import t from 'tap'

import type { TaskSnapshot } from '../../../src/events/catalogue.js'
import {
  decideReminder,
  REMINDER_REASONS,
  type TaskChange,
  type TaskChangeType,
} from '../../../src/workers/reminder/reminder-schedule.js'
import type { ReminderRecord } from '../../../src/workers/reminder/reminder-store.js'
import { decideBatch } from '../../../src/workers/reminder/reminder-worker.js'

const NOW = new Date('2026-06-01T12:00:00.000Z')

function snapshot(fields: Partial<TaskSnapshot> = {}): TaskSnapshot {
  return {
    id: randomUUID(),
    userId: 'alice',
    title: 'Call the plumber',
    description: '',
    priority: 'medium',
    tags: [],
    status: 'open',
    dueAt: '2026-06-01T15:00:00.000Z',
    timeZone: 'UTC',
    reminderOffsetMinutes: 30,
    recurrence: null,
    seriesId: null,
    seriesAnchor: null,
    occurrence: null,
    completedAt: null,
    version: 1,
    createdAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    ...fields,
  }
}

function change(task: TaskSnapshot, type: TaskChangeType = 'task.created'): TaskChange {
  return { type, task, version: task.version }
}

function recordOf(task: TaskSnapshot, fields: Partial<ReminderRecord> = {}): ReminderRecord {
  return {
    taskId: task.id,
    userId: task.userId,
    title: task.title,
    dueAt: new Date('2026-06-01T15:00:00.000Z'),
    remindAt: new Date('2026-06-01T14:30:00.000Z'),
    taskVersion: task.version,
    status: 'scheduled',
    reason: null,
    firedAt: null,
    ...fields,
  }
}

t.test('decideReminder should schedule a reminder at the due date minus the offset', async (t) => {
  const task = snapshot()
  const decision = decideReminder(change(task), undefined, NOW)

  t.equal(decision.action, 'schedule')
  t.match(decision, {
    record: {
      taskId: task.id,
      status: 'scheduled',
      remindAt: new Date('2026-06-01T14:30:00.000Z'),
      dueAt: new Date('2026-06-01T15:00:00.000Z'),
      taskVersion: 1,
      reason: null,
    },
  })
})

t.test(
  'decideReminder should schedule a passed reminder of a task not yet due, to fire at once',
  async (t) => {
    const task = snapshot({ dueAt: '2026-06-01T12:10:00.000Z', reminderOffsetMinutes: 60 })
    const decision = decideReminder(change(task), undefined, NOW)

    t.equal(decision.action, 'schedule')
    t.match(decision, { record: { remindAt: new Date('2026-06-01T11:10:00.000Z') } })
  },
)

t.test(
  'decideReminder should skip a task already overdue when scheduled, saying why',
  async (t) => {
    const task = snapshot({ dueAt: '2026-06-01T11:59:59.999Z' })
    const decision = decideReminder(change(task), undefined, NOW)

    t.equal(decision.action, 'skip')
    t.match(decision, { record: { status: 'skipped', reason: REMINDER_REASONS.overdue } })
  },
)

t.test('decideReminder should skip a task due exactly now', async (t) => {
  const task = snapshot({ dueAt: NOW.toISOString() })

  t.equal(decideReminder(change(task), undefined, NOW).action, 'skip')
})

t.test('decideReminder should ignore an event at or below the stored version', async (t) => {
  const task = snapshot({ version: 3 })
  const stored = recordOf(task, { taskVersion: 3 })
  const older = snapshot({ id: task.id, version: 2, dueAt: '2026-06-02T00:00:00.000Z' })

  t.same(decideReminder(change(task, 'task.updated'), stored, NOW), {
    action: 'ignore',
    why: 'stale',
  })
  t.same(decideReminder(change(older, 'task.updated'), stored, NOW), {
    action: 'ignore',
    why: 'stale',
  })
})

t.test('decideReminder should replace the reminder when the due date moves', async (t) => {
  const task = snapshot()
  const moved = { ...task, dueAt: '2026-06-01T18:00:00.000Z', version: 2 }
  const decision = decideReminder(change(moved, 'task.updated'), recordOf(task), NOW)

  t.equal(decision.action, 'schedule')
  t.match(decision, { record: { remindAt: new Date('2026-06-01T17:30:00.000Z'), taskVersion: 2 } })
})

t.test('decideReminder should replace the reminder when the offset changes', async (t) => {
  const task = snapshot()
  const changed = { ...task, reminderOffsetMinutes: 120, version: 2 }
  const decision = decideReminder(change(changed, 'task.updated'), recordOf(task), NOW)

  t.match(decision, {
    action: 'schedule',
    record: { remindAt: new Date('2026-06-01T13:00:00.000Z') },
  })
})

t.test(
  'decideReminder should cancel on completion, deletion, a cleared due date or offset',
  async (t) => {
    const task = snapshot()
    const stored = recordOf(task)
    const cases: [TaskChange, string][] = [
      [
        change({ ...task, status: 'completed', version: 2 }, 'task.completed'),
        REMINDER_REASONS.completed,
      ],
      [change({ ...task, version: 2 }, 'task.deleted'), REMINDER_REASONS.deleted],
      [
        change({ ...task, dueAt: null, reminderOffsetMinutes: null, version: 2 }, 'task.updated'),
        REMINDER_REASONS.dueDateCleared,
      ],
      [
        change({ ...task, reminderOffsetMinutes: null, version: 2 }, 'task.updated'),
        REMINDER_REASONS.reminderRemoved,
      ],
    ]
    for (const [taskChange, reason] of cases) {
      const decision = decideReminder(taskChange, stored, NOW)
      t.match(
        decision,
        { action: 'cancel', record: { status: 'cancelled', reason, taskVersion: 2 } },
        reason,
      )
    }
  },
)

t.test('decideReminder should store nothing for a task that never had a reminder', async (t) => {
  const task = snapshot({ dueAt: null, reminderOffsetMinutes: null })

  t.same(decideReminder(change(task), undefined, NOW), { action: 'ignore', why: 'no reminder' })
  t.same(decideReminder(change(task, 'task.deleted'), undefined, NOW), {
    action: 'ignore',
    why: 'no reminder',
  })
})

t.test(
  'decideReminder should keep a fired reminder fired when the task changes otherwise',
  async (t) => {
    const task = snapshot()
    const firedAt = new Date('2026-06-01T14:30:00.004Z')
    const stored = recordOf(task, { status: 'fired', firedAt })
    const renamed = { ...task, title: 'Call the electrician', version: 2 }
    const decision = decideReminder(
      change(renamed, 'task.updated'),
      stored,
      new Date('2026-06-01T14:40:00Z'),
    )

    t.match(decision, {
      action: 'keep',
      record: { status: 'fired', firedAt, title: 'Call the electrician' },
    })
  },
)

t.test(
  'decideReminder should not fire again when a task completed after its reminder is reopened',
  async (t) => {
    const task = snapshot()
    const firedAt = new Date('2026-06-01T14:30:00.004Z')
    const cancelled = recordOf(task, {
      status: 'cancelled',
      reason: REMINDER_REASONS.completed,
      firedAt,
      taskVersion: 2,
    })
    const reopened = { ...task, version: 3 }
    const decision = decideReminder(
      change(reopened, 'task.updated'),
      cancelled,
      new Date('2026-06-01T14:45:00Z'),
    )

    t.match(decision, { action: 'keep', record: { status: 'fired', firedAt, taskVersion: 3 } })
  },
)

t.test(
  'decideReminder should schedule again a reopened task whose reminder had not fired',
  async (t) => {
    const task = snapshot()
    const cancelled = recordOf(task, {
      status: 'cancelled',
      reason: REMINDER_REASONS.completed,
      taskVersion: 2,
    })
    const reopened = { ...task, version: 3 }

    t.match(decideReminder(change(reopened, 'task.updated'), cancelled, NOW), {
      action: 'schedule',
      record: { status: 'scheduled', reason: null },
    })
  },
)

t.test(
  'decideReminder should keep a scheduled reminder scheduled even once its task is overdue',
  async (t) => {
    const task = snapshot()
    const renamed = { ...task, title: 'renamed', version: 2 }
    const late = new Date('2026-06-01T16:00:00Z')

    t.match(decideReminder(change(renamed, 'task.updated'), recordOf(task), late), {
      action: 'keep',
      record: { status: 'scheduled', title: 'renamed' },
    })
  },
)

t.test(
  'decideReminder should read a nonexistent local due time as the API resolved it',
  async (t) => {
    // 2026-03-08 02:30 does not exist in America/New_York: the API stores 03:30 EDT, 07:30Z.
    const task = snapshot({ dueAt: '2026-03-08T07:30:00.000Z', timeZone: 'America/New_York' })
    const decision = decideReminder(change(task), undefined, new Date('2026-03-08T06:00:00Z'))

    t.match(decision, {
      action: 'schedule',
      record: { remindAt: new Date('2026-03-08T07:00:00.000Z') },
    })
  },
)

t.test('decideBatch should fold several changes of one task into its last record', async (t) => {
  const task = snapshot()
  const moved = { ...task, dueAt: '2026-06-01T20:00:00.000Z', version: 2 }
  const completed = { ...moved, status: 'completed' as const, version: 3 }
  const other = snapshot()
  const records = decideBatch(
    [
      change(task),
      change(other),
      change(moved, 'task.updated'),
      change(completed, 'task.completed'),
      change(task),
    ],
    new Map(),
    NOW,
  )

  t.equal(records.length, 2)
  t.match(
    records.find((r) => r.taskId === task.id),
    {
      status: 'cancelled',
      reason: REMINDER_REASONS.completed,
      taskVersion: 3,
      remindAt: new Date('2026-06-01T19:30:00.000Z'),
    },
  )
  t.match(
    records.find((r) => r.taskId === other.id),
    { status: 'scheduled' },
  )
})

// What a task change means for its reminder: a pure function of the change, what the store
// holds and the time, so every rule can be tested with a fixed clock. The reminder is due at
// `dueAt - reminderOffsetMinutes`; the task's version decides which change wins.
import type { TaskSnapshot } from '../../events/catalogue.js'
import type { ReminderRecord } from './reminder-store.js'

/** The time source; tests pass a controllable one. */
export type Clock = () => Date

export type TaskChangeType = 'task.created' | 'task.updated' | 'task.completed' | 'task.deleted'

/** A task event, reduced to what the schedule needs. */
export interface TaskChange {
  type: TaskChangeType
  task: TaskSnapshot
  /** The task's version after the change. */
  version: number
}

/** Why a reminder was cancelled or skipped, as recorded in the store. */
export const REMINDER_REASONS = {
  overdue: 'overdue when scheduled',
  completed: 'task completed',
  deleted: 'task deleted',
  dueDateCleared: 'due date cleared',
  reminderRemoved: 'reminder removed',
} as const

export type ReminderDecision =
  /** Nothing to store: the change is stale, or the task never had a reminder. */
  | { action: 'ignore'; why: 'stale' | 'no reminder' }
  /** A new reminder time, or a reminder that was not scheduled before. */
  | { action: 'schedule'; record: ReminderRecord }
  /** Same reminder time as stored: status and firing are kept, details follow the task. */
  | { action: 'keep'; record: ReminderRecord }
  | { action: 'cancel'; record: ReminderRecord }
  | { action: 'skip'; record: ReminderRecord }

const MINUTE_MS = 60_000

function cancelReason(change: TaskChange): string | undefined {
  if (change.type === 'task.deleted') {
    return REMINDER_REASONS.deleted
  }
  if (change.task.status === 'completed') {
    return REMINDER_REASONS.completed
  }
  if (change.task.dueAt === null) {
    return REMINDER_REASONS.dueDateCleared
  }
  if (change.task.reminderOffsetMinutes === null) {
    return REMINDER_REASONS.reminderRemoved
  }

  return undefined
}

function sameTime(a: Date | null, b: Date | null): boolean {
  return a !== null && b !== null && a.getTime() === b.getTime()
}

/**
 * Decides what a task change does to the task's reminder.
 *
 * - A change at or below the stored version is stale and changes nothing.
 * - Deletion, completion, a cleared due date or a removed offset cancel the reminder.
 * - A reminder time that fired already stays fired (it never fires twice); one that is
 *   scheduled stays scheduled, whatever the time now.
 * - A new reminder time is scheduled, even if it has passed (it then fires at once), unless
 *   the task is already past its due date: then it is skipped as overdue.
 */
export function decideReminder(
  change: TaskChange,
  stored: ReminderRecord | undefined,
  now: Date,
): ReminderDecision {
  if (stored !== undefined && change.version <= stored.taskVersion) {
    return { action: 'ignore', why: 'stale' }
  }

  const { task } = change
  const base = {
    taskId: task.id,
    userId: task.userId,
    title: task.title,
    taskVersion: change.version,
  }
  const reason = cancelReason(change)
  if (reason !== undefined) {
    if (stored === undefined) {
      return { action: 'ignore', why: 'no reminder' }
    }

    const record = { ...stored, ...base, status: 'cancelled' as const, reason }

    return { action: 'cancel', record }
  }

  // cancelReason has ruled out a missing due date or offset.
  const dueAt = new Date(task.dueAt ?? 0)
  const remindAt = new Date(dueAt.getTime() - (task.reminderOffsetMinutes ?? 0) * MINUTE_MS)
  const next = { ...base, dueAt, remindAt, reason: null }
  if (stored !== undefined && sameTime(stored.remindAt, remindAt)) {
    if (stored.firedAt !== null) {
      return { action: 'keep', record: { ...next, status: 'fired', firedAt: stored.firedAt } }
    }
    if (stored.status === 'scheduled') {
      return { action: 'keep', record: { ...next, status: 'scheduled', firedAt: null } }
    }
  }

  if (dueAt.getTime() <= now.getTime()) {
    const record = {
      ...next,
      status: 'skipped' as const,
      reason: REMINDER_REASONS.overdue,
      firedAt: null,
    }

    return { action: 'skip', record }
  }

  return { action: 'schedule', record: { ...next, status: 'scheduled', firedAt: null } }
}

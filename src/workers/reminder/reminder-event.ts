// The `reminder.fired` event. Its id is a name-based UUID (RFC 9562 §5.5, version 5) of the task
// and the reminder time, so a reminder fired or published twice carries the same id and every
// consumer can recognise the repeat.
import { createEvent, type CloudEvent } from '../../events/cloud-event.js'
import { nameBasedUuid } from '../../shared/name-based-uuid.js'
import type { FiredReminder, ReminderRecord } from './reminder-store.js'

export const REMINDER_SOURCE = '/taskstream/reminder'

// This project's namespace for reminder event ids; changing it changes every id.
const NAMESPACE = '9b3e6c1a4f2d4e8a8c5b7d0e1f2a3b4c'

export function reminderEventId(taskId: string, remindAt: Date): string {
  return nameBasedUuid(NAMESPACE, `${taskId}/${remindAt.toISOString()}`)
}

export interface DueReminder {
  taskId: string
  userId: string
  title: string
  dueAt: Date
  remindAt: Date
}

export function reminderFiredEvent(
  reminder: DueReminder,
  firedAt: Date,
): CloudEvent<'reminder.fired'> {
  const lateMs = Math.max(0, firedAt.getTime() - reminder.remindAt.getTime())
  const data = {
    taskId: reminder.taskId,
    userId: reminder.userId,
    title: reminder.title,
    dueAt: reminder.dueAt.toISOString(),
    remindAt: reminder.remindAt.toISOString(),
    firedAt: firedAt.toISOString(),
    lateMs,
  }

  return createEvent('reminder.fired', data, {
    source: REMINDER_SOURCE,
    key: reminder.taskId,
    id: reminderEventId(reminder.taskId, reminder.remindAt),
    time: firedAt,
  })
}

/**
 * The event for a reminder a store has just claimed. A schedule without a due or reminder time
 * cannot be claimed; should one be, the fire time stands in for both.
 */
export function claimedReminderEvent(
  record: Pick<ReminderRecord, 'taskId' | 'userId' | 'title' | 'dueAt' | 'remindAt'>,
  firedAt: Date,
): CloudEvent<'reminder.fired'> {
  const { taskId, userId, title } = record
  const reminder = {
    taskId,
    userId,
    title,
    dueAt: record.dueAt ?? firedAt,
    remindAt: record.remindAt ?? firedAt,
  }

  return reminderFiredEvent(reminder, firedAt)
}

/** What a store reports of a reminder it fired, read off its event. */
export function firedReminderOf(event: CloudEvent<'reminder.fired'>): FiredReminder {
  return {
    eventId: event.id,
    taskId: event.data.taskId,
    userId: event.data.userId,
    remindAt: new Date(event.data.remindAt),
    firedAt: new Date(event.data.firedAt),
    lateMs: event.data.lateMs,
  }
}

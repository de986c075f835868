// The `reminder.fired` event. Its id is a name-based UUID (RFC 9562 §5.5, version 5) of the task
// and the reminder time, so a reminder fired or published twice carries the same id and every
// consumer can recognise the repeat.
import { createHash } from 'node:crypto'

import { createEvent, type CloudEvent } from '../../events/cloud-event.js'

export const REMINDER_SOURCE = '/taskstream/reminder'

// This project's namespace for reminder event ids; changing it changes every id.
const NAMESPACE = Buffer.from('9b3e6c1a4f2d4e8a8c5b7d0e1f2a3b4c', 'hex')

/** The UUID v5 of `name` in taskstream's reminder namespace. */
export function nameBasedUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString('hex')

  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

export function reminderEventId(taskId: string, remindAt: Date): string {
  return nameBasedUuid(`${taskId}/${remindAt.toISOString()}`)
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

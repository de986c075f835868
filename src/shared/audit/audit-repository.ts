// The audit trail: one row per task event, written by the audit role and read by the API.
// The event id is the primary key, so a redelivered event never makes a second row.
import type { Kysely } from 'kysely'

import type { CloudEvent } from '../../events/cloud-event.js'
import type { EventType } from '../../events/catalogue.js'
import type { Database } from '../db/schema.js'

type TaskEventType = Extract<EventType, `task.${'created' | 'updated' | 'deleted' | 'completed'}`>

/** Any of the four task events, narrowed by `type`. */
export type TaskEvent = { [T in TaskEventType]: CloudEvent<T> }[TaskEventType]

export interface AuditEntry {
  eventId: string
  type: string
  taskId: string
  userId: string
  taskVersion: number
  eventTime: string
  recordedAt: string
  payload: Record<string, unknown>
}

/** Writes the events in one statement; duplicates, in the table or the batch, are skipped. */
export async function insertAuditEntries(
  db: Kysely<Database>,
  events: readonly TaskEvent[],
): Promise<number> {
  if (events.length === 0) {
    return 0
  }

  const result = await db
    .insertInto('audit_entries')
    .values(
      events.map((event) => ({
        event_id: event.id,
        type: event.type,
        task_id: event.data.task.id,
        user_id: event.data.userId,
        task_version: event.data.version,
        event_time: event.time,
        payload: JSON.stringify(event.data),
      })),
    )
    .onConflict((oc) => oc.column('event_id').doNothing())
    .executeTakeFirst()

  return Number(result.numInsertedOrUpdatedRows ?? 0n)
}

/** A task's trail, oldest change first; empty when the task is not this user's. */
export async function listAuditTrail(
  db: Kysely<Database>,
  userId: string,
  taskId: string,
): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_entries')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('user_id', '=', userId)
    .orderBy('task_version')
    .orderBy('event_time')
    .execute()

  return rows.map((row) => ({
    eventId: row.event_id,
    type: row.type,
    taskId: row.task_id,
    userId: row.user_id,
    taskVersion: row.task_version,
    eventTime: row.event_time.toISOString(),
    recordedAt: row.recorded_at.toISOString(),
    payload: row.payload,
  }))
}

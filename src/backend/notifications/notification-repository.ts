// Notifications as the backend keeps them for their users. The event id is unique, so a
// redelivered `reminder.fired` adds nothing. Writers take one lock, so `sequence` order is
// commit order: a reader that remembers the last sequence it saw never skips a row.
import { sql, type Kysely, type Selectable } from 'kysely'

import type { CloudEvent } from '../../events/cloud-event.js'
import type { Database, NotificationsTable } from '../../shared/db/schema.js'

/** The channel every insert notifies when it commits; each backend replica listens on it. */
export const NOTIFICATIONS_CHANNEL = 'taskstream_notifications'

// Distinct from the outbox relay's lock (7423001).
const WRITE_LOCK = 7423002

export interface StoredNotification {
  sequence: number
  /** The id of the event that brought it. */
  id: string
  type: string
  userId: string
  taskId: string
  createdAt: string
  data: Record<string, unknown>
}

function toNotification(row: Selectable<NotificationsTable>): StoredNotification {
  return {
    sequence: Number(row.sequence),
    id: row.id,
    type: row.type,
    userId: row.user_id,
    taskId: row.task_id,
    createdAt: row.created_at.toISOString(),
    data: row.payload,
  }
}

/** Stores the events once each; returns how many were new. */
export async function insertNotifications(
  db: Kysely<Database>,
  events: readonly CloudEvent<'reminder.fired'>[],
): Promise<number> {
  if (events.length === 0) {
    return 0
  }

  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${WRITE_LOCK})`.execute(trx)
    const result = await trx
      .insertInto('notifications')
      .values(
        events.map((event) => ({
          id: event.id,
          type: event.type,
          user_id: event.data.userId,
          task_id: event.data.taskId,
          payload: JSON.stringify(event.data),
        })),
      )
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst()
    const inserted = Number(result.numInsertedOrUpdatedRows ?? 0n)
    if (inserted > 0) {
      await sql`select pg_notify(${NOTIFICATIONS_CHANNEL}, '')`.execute(trx)
    }

    return inserted
  })
}

/** A user's notifications, newest first, older than `beforeSequence` when given. */
export async function listNotifications(
  db: Kysely<Database>,
  userId: string,
  page: { limit: number; beforeSequence: number | undefined },
): Promise<StoredNotification[]> {
  let query = db.selectFrom('notifications').selectAll().where('user_id', '=', userId)
  if (page.beforeSequence !== undefined) {
    query = query.where('sequence', '<', String(page.beforeSequence))
  }
  const rows = await query.orderBy('sequence', 'desc').limit(page.limit).execute()

  return rows.map(toNotification)
}

/** A user's notifications after `afterSequence`, oldest first: what a reconnecting stream missed. */
export async function listNotificationsAfter(
  db: Kysely<Database>,
  userId: string,
  afterSequence: number,
  limit: number,
): Promise<StoredNotification[]> {
  const rows = await db
    .selectFrom('notifications')
    .selectAll()
    .where('user_id', '=', userId)
    .where('sequence', '>', String(afterSequence))
    .orderBy('sequence')
    .limit(limit)
    .execute()

  return rows.map(toNotification)
}

/** Everyone's notifications after `afterSequence`, oldest first, for the stream hub. */
export async function readNotificationsAfter(
  db: Kysely<Database>,
  afterSequence: number,
  limit: number,
): Promise<StoredNotification[]> {
  const rows = await db
    .selectFrom('notifications')
    .selectAll()
    .where('sequence', '>', String(afterSequence))
    .orderBy('sequence')
    .limit(limit)
    .execute()

  return rows.map(toNotification)
}

/** The highest sequence stored, 0 when there is none. */
export async function lastSequence(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('notifications')
    .select((eb) => eb.fn.max('sequence').as('last'))
    .executeTakeFirst()

  return Number(row?.last ?? 0)
}

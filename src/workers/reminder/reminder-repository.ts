// The SQL of the reminder schedule in PostgreSQL. Claims lock due rows with FOR UPDATE SKIP
// LOCKED, so concurrent claimers (replicas) each take different reminders and none waits.
import { type Kysely, type Selectable, type Transaction } from 'kysely'

import type { Database, RemindersTable } from '../../shared/db/schema.js'
import type { ReminderRecord } from './reminder-store.js'

type ReminderRow = Selectable<RemindersTable>

export function toRecord(row: ReminderRow): ReminderRecord {
  return {
    taskId: row.task_id,
    userId: row.user_id,
    title: row.title,
    dueAt: row.due_at,
    remindAt: row.remind_at,
    taskVersion: row.task_version,
    status: row.status,
    reason: row.reason,
    firedAt: row.fired_at,
  }
}

/** The stored reminders of these tasks, locked until the transaction ends. */
export async function lockReminders(
  trx: Transaction<Database>,
  taskIds: readonly string[],
): Promise<ReminderRow[]> {
  if (taskIds.length === 0) {
    return []
  }

  // A fixed lock order keeps two writers of overlapping tasks from deadlocking.
  return trx
    .selectFrom('reminders')
    .selectAll()
    .where('task_id', 'in', taskIds)
    .orderBy('task_id')
    .forUpdate()
    .execute()
}

/** Inserts or replaces records, each only over an older task version; returns those written. */
export async function upsertReminders(
  trx: Transaction<Database>,
  records: readonly ReminderRecord[],
  now: Date,
): Promise<ReminderRow[]> {
  if (records.length === 0) {
    return []
  }

  return trx
    .insertInto('reminders')
    .values(
      records.map((r) => ({
        task_id: r.taskId,
        user_id: r.userId,
        title: r.title,
        due_at: r.dueAt,
        remind_at: r.remindAt,
        task_version: r.taskVersion,
        status: r.status,
        reason: r.reason,
        fired_at: r.firedAt,
        updated_at: now,
      })),
    )
    .onConflict((oc) =>
      oc
        .column('task_id')
        .doUpdateSet((eb) => ({
          user_id: eb.ref('excluded.user_id'),
          title: eb.ref('excluded.title'),
          due_at: eb.ref('excluded.due_at'),
          remind_at: eb.ref('excluded.remind_at'),
          task_version: eb.ref('excluded.task_version'),
          status: eb.ref('excluded.status'),
          reason: eb.ref('excluded.reason'),
          fired_at: eb.ref('excluded.fired_at'),
          updated_at: eb.ref('excluded.updated_at'),
        }))
        .where((eb) => eb('reminders.task_version', '<', eb.ref('excluded.task_version'))),
    )
    .returningAll()
    .execute()
}

/**
 * Locks up to `limit` scheduled reminders due at `now`, skipping rows another transaction
 * holds. In the direct mode the tasks table is in the same database: a reminder whose task has
 * a newer version than the schedule has seen waits until the role applies that change, so a
 * task completed or deleted while the role was down never fires.
 */
export async function lockDueReminders(
  trx: Transaction<Database>,
  now: Date,
  limit: number,
): Promise<ReminderRow[]> {
  return trx
    .selectFrom('reminders as r')
    .selectAll('r')
    .where('r.status', '=', 'scheduled')
    .where('r.remind_at', '<=', now)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('tasks as t')
            .select('t.id')
            .whereRef('t.id', '=', 'r.task_id')
            .whereRef('t.version', '>', 'r.task_version'),
        ),
      ),
    )
    .orderBy('r.remind_at')
    .limit(limit)
    .forUpdate()
    .skipLocked()
    .execute()
}

export async function markFired(
  trx: Transaction<Database>,
  taskIds: readonly string[],
  firedAt: Date,
): Promise<void> {
  if (taskIds.length === 0) {
    return
  }

  await trx
    .updateTable('reminders')
    .set({ status: 'fired', fired_at: firedAt, reason: null, updated_at: firedAt })
    .where('task_id', 'in', taskIds)
    .execute()
}

/** The earliest scheduled reminder time, or undefined when none is scheduled. */
export async function findNextDueAt(db: Kysely<Database>): Promise<Date | undefined> {
  const [next] = await findUpcoming(db, undefined, 1)

  return next
}

/** The next `limit` distinct scheduled reminder times, after `after` when given. */
export async function findUpcoming(
  db: Kysely<Database>,
  after: Date | undefined,
  limit: number,
): Promise<Date[]> {
  let query = db
    .selectFrom('reminders')
    .select('remind_at')
    .distinct()
    .where('status', '=', 'scheduled')
    .where('remind_at', 'is not', null)
  if (after !== undefined) {
    query = query.where('remind_at', '>', after)
  }
  const rows = await query.orderBy('remind_at').limit(limit).execute()

  return rows.flatMap((row) => (row.remind_at === null ? [] : [row.remind_at]))
}

export async function findReminder(
  db: Kysely<Database>,
  taskId: string,
): Promise<ReminderRow | undefined> {
  return db.selectFrom('reminders').selectAll().where('task_id', '=', taskId).executeTakeFirst()
}

/**
 * Of these schedules, the tasks whose row has a newer version than the schedule saw: their
 * change is still in the event backlog, so their reminders must wait for it.
 */
export async function findTasksAhead(
  db: Kysely<Database>,
  schedules: readonly { taskId: string; taskVersion: number }[],
): Promise<Set<string>> {
  if (schedules.length === 0) {
    return new Set()
  }

  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'version'])
    .where(
      'id',
      'in',
      schedules.map((s) => s.taskId),
    )
    .execute()
  const seen = new Map(schedules.map((s) => [s.taskId, s.taskVersion]))

  return new Set(rows.filter((row) => row.version > (seen.get(row.id) ?? 0)).map((row) => row.id))
}

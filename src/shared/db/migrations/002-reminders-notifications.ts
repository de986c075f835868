// The reminder schedule (the reminder role's state store in direct mode) and the notifications
// the backend delivers to users.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per task that has or had a reminder. `task_version` is the version of the change
  // that produced the row: an event with a version at or below it is late or repeated.
  await db.schema
    .createTable('reminders')
    .addColumn('task_id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('due_at', 'timestamptz')
    .addColumn('remind_at', 'timestamptz')
    .addColumn('task_version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('scheduled', 'fired', 'cancelled', 'skipped')`),
    )
    .addColumn('reason', 'text')
    .addColumn('fired_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await sql`create index reminders_due on reminders (remind_at) where status = 'scheduled'`.execute(
    db,
  )

  // `sequence` orders notifications for SSE `Last-Event-ID` and pagination; rows are inserted
  // under a lock, so sequence order is also commit order and a reader never skips one.
  await db.schema
    .createTable('notifications')
    .addColumn('sequence', 'bigserial', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('task_id', 'uuid', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('notifications_user_sequence')
    .on('notifications')
    .columns(['user_id', 'sequence'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notifications').execute()
  await db.schema.dropTable('reminders').execute()
}

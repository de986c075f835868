// The foundation: tasks, the transactional outbox, and the audit trail.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('priority', 'text', (c) =>
      c.notNull().check(sql`priority in ('low', 'medium', 'high', 'urgent')`),
    )
    .addColumn('tags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'completed')`))
    .addColumn('due_at', 'timestamptz')
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('reminder_offset_minutes', 'integer')
    .addColumn('recurrence', 'jsonb')
    .addColumn('series_id', 'uuid')
    .addColumn('series_anchor', 'timestamptz')
    .addColumn('occurrence', 'integer')
    .addColumn('completed_at', 'timestamptz')
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('tasks_user_created')
    .on('tasks')
    .columns(['user_id', 'created_at', 'id'])
    .execute()
  await db.schema
    .createIndex('tasks_user_due')
    .on('tasks')
    .columns(['user_id', 'due_at', 'id'])
    .execute()
  // One task per occurrence of a series: the recurrence command is applied idempotently.
  await db.schema
    .createIndex('tasks_series_occurrence')
    .on('tasks')
    .columns(['series_id', 'occurrence'])
    .unique()
    .execute()

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('topic', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('event', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute()
  await sql`create index outbox_unsent on outbox (id) where sent_at is null`.execute(db)

  await db.schema
    .createTable('audit_entries')
    .addColumn('event_id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('task_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('task_version', 'integer', (c) => c.notNull())
    .addColumn('event_time', 'timestamptz', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('audit_entries_task')
    .on('audit_entries')
    .columns(['task_id', 'task_version'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_entries').execute()
  await db.schema.dropTable('outbox').execute()
  await db.schema.dropTable('tasks').execute()
}

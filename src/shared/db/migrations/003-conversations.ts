// The chat assistant's memory: conversation sessions per user and the messages in them.
import { sql, type Kysely } from 'kysely'

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('conversation_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_activity_at', 'timestamptz', (c) => c.notNull())
    .addColumn('ended_at', 'timestamptz')
    .execute()
  // Listing newest first, with (started_at, id) as the page cursor.
  await db.schema
    .createIndex('conversation_sessions_user_started')
    .on('conversation_sessions')
    .columns(['user_id', 'started_at desc', 'id desc'])
    .execute()
  // At most one open session per user: the backstop behind the per-user lock.
  await sql`create unique index conversation_sessions_user_open
    on conversation_sessions (user_id) where ended_at is null`.execute(db)

  await db.schema
    .createTable('conversation_messages')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    // Timestamps can tie (and clocks can step back); the sequence is the order of arrival.
    .addColumn('seq', 'bigint', (c) => c.notNull().generatedAlwaysAsIdentity())
    .addColumn('session_id', 'uuid', (c) =>
      c.notNull().references('conversation_sessions.id').onDelete('cascade'),
    )
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) =>
      c.notNull().check(sql`role in ('user', 'assistant', 'system', 'tool')`),
    )
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('task_refs', 'jsonb', (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('token_count', 'integer', (c) => c.notNull().check(sql`token_count >= 0`))
    // The encoding that counted token_count; the context recounts when the configuration changes.
    .addColumn('token_encoding', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .execute()
  // The context window (newest first) and the history pages (either direction) of a session.
  await db.schema
    .createIndex('conversation_messages_session_seq')
    .on('conversation_messages')
    .columns(['session_id', 'seq'])
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('conversation_messages').execute()
  await db.schema.dropTable('conversation_sessions').execute()
}

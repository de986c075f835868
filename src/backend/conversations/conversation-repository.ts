// Every SQL statement about conversations. Rows become API shapes here and nowhere else.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely'

import type {
  ConversationMessagesTable,
  ConversationSessionsTable,
  ConversationTaskRef,
  Database,
} from '../../shared/db/schema.js'
import type {
  ConversationMessage,
  ConversationSession,
  MessageRole,
} from './conversation-schemas.js'
import type { MessageCursor, SessionCursor } from './conversation-cursor.js'

type Db = Kysely<Database> | Transaction<Database>
export type SessionRow = Selectable<ConversationSessionsTable>
export type MessageRow = Selectable<ConversationMessagesTable>

// An arbitrary namespace for the per-user advisory lock, so it cannot meet another area's keys.
const LOCK_NAMESPACE = 0x636f6e76 // "conv"

export function toSession(
  row: SessionRow,
  endedAt: Date | null = row.ended_at,
): ConversationSession {
  return {
    id: row.id,
    startedAt: row.started_at.toISOString(),
    lastActivityAt: row.last_activity_at.toISOString(),
    endedAt: endedAt === null ? null : endedAt.toISOString(),
  }
}

export function toMessage(row: MessageRow): ConversationMessage {
  return {
    id: row.id,
    sessionId: row.session_id,
    role: row.role,
    content: row.content,
    taskRefs: row.task_refs,
    tokenCount: row.token_count,
    createdAt: row.created_at.toISOString(),
  }
}

/**
 * Serialises every append of one user until the transaction ends, so two messages that arrive
 * at once agree on the session (one of them may start it, never both).
 */
export async function lockUserConversations(
  trx: Transaction<Database>,
  userId: string,
): Promise<void> {
  await sql`select pg_advisory_xact_lock(${LOCK_NAMESPACE}::int, hashtext(${userId}::text))`.execute(
    trx,
  )
}

/** The user's session that has not been ended, if any (it may have timed out since). */
export async function findOpenSession(db: Db, userId: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('conversation_sessions')
    .selectAll()
    .where('user_id', '=', userId)
    .where('ended_at', 'is', null)
    .executeTakeFirst()
}

export async function findSession(
  db: Db,
  userId: string,
  id: string,
): Promise<SessionRow | undefined> {
  return db
    .selectFrom('conversation_sessions')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst()
}

export async function insertSession(db: Db, session: SessionRow): Promise<void> {
  await db.insertInto('conversation_sessions').values(session).execute()
}

export async function endSession(db: Db, id: string, endedAt: Date): Promise<void> {
  await db
    .updateTable('conversation_sessions')
    .set({ ended_at: endedAt })
    .where('id', '=', id)
    .execute()
}

/** Moves the last activity forward; a clock that steps back never moves it back. */
export async function touchSession(db: Db, id: string, at: Date): Promise<void> {
  await db
    .updateTable('conversation_sessions')
    .set({ last_activity_at: sql<Date>`greatest(last_activity_at, ${at})` })
    .where('id', '=', id)
    .execute()
}

export interface NewMessage {
  id: string
  sessionId: string
  userId: string
  role: MessageRole
  content: string
  taskRefs: readonly ConversationTaskRef[]
  tokenCount: number
  tokenEncoding: string
  createdAt: Date
}

export async function insertMessage(db: Db, message: NewMessage): Promise<MessageRow> {
  return db
    .insertInto('conversation_messages')
    .values({
      id: message.id,
      session_id: message.sessionId,
      user_id: message.userId,
      role: message.role,
      content: message.content,
      task_refs: JSON.stringify(message.taskRefs),
      token_count: message.tokenCount,
      token_encoding: message.tokenEncoding,
      created_at: message.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow()
}

/** The newest `limit` messages of a session, returned oldest first. */
export async function recentMessages(
  db: Db,
  userId: string,
  sessionId: string,
  limit: number,
): Promise<MessageRow[]> {
  const rows = await db
    .selectFrom('conversation_messages')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('user_id', '=', userId)
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute()

  return rows.reverse()
}

export async function listSessions(
  db: Db,
  userId: string,
  page: { limit: number; after?: SessionCursor | undefined },
): Promise<SessionRow[]> {
  let query = db.selectFrom('conversation_sessions').selectAll().where('user_id', '=', userId)
  if (page.after !== undefined) {
    const { startedAt, id } = page.after
    query = query.where(sql<boolean>`(started_at, id) < (${startedAt}::timestamptz, ${id}::uuid)`)
  }

  return query.orderBy('started_at', 'desc').orderBy('id', 'desc').limit(page.limit).execute()
}

export async function listMessages(
  db: Db,
  userId: string,
  sessionId: string,
  page: { limit: number; order: 'asc' | 'desc'; after?: MessageCursor | undefined },
): Promise<MessageRow[]> {
  let query = db
    .selectFrom('conversation_messages')
    .selectAll()
    .where('session_id', '=', sessionId)
    .where('user_id', '=', userId)
  if (page.after !== undefined) {
    query = query.where('seq', page.order === 'asc' ? '>' : '<', page.after.seq)
  }

  return query.orderBy('seq', page.order).limit(page.limit).execute()
}

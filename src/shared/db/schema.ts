// Table types for kysely: one interface per table, named after it. Migrations own the DDL;
// keep these in step with them.
import type { ColumnType, Generated, JSONColumnType } from 'kysely'

type Timestamp = ColumnType<Date, Date | string, Date | string>
/** A timestamp the database fills in when the insert leaves it out. */
type DefaultTimestamp = ColumnType<Date, Date | string | undefined, Date | string>

export interface TasksTable {
  id: string
  user_id: string
  title: string
  description: string
  priority: 'low' | 'medium' | 'high' | 'urgent'
  tags: ColumnType<string[], string[], string[]>
  status: 'open' | 'completed'
  due_at: Timestamp | null
  time_zone: string
  reminder_offset_minutes: number | null
  recurrence: JSONColumnType<Record<string, unknown>> | null
  series_id: string | null
  series_anchor: Timestamp | null
  occurrence: number | null
  completed_at: Timestamp | null
  deleted_at: Timestamp | null
  version: number
  created_at: Timestamp
  updated_at: Timestamp
}

export interface OutboxTable {
  id: Generated<string>
  topic: string
  key: string
  event: JSONColumnType<Record<string, unknown>>
  created_at: DefaultTimestamp
  sent_at: Timestamp | null
}

export interface AuditEntriesTable {
  event_id: string
  type: string
  task_id: string
  user_id: string
  task_version: number
  event_time: Timestamp
  payload: JSONColumnType<Record<string, unknown>>
  recorded_at: DefaultTimestamp
}

export interface RemindersTable {
  task_id: string
  user_id: string
  title: string
  due_at: Timestamp | null
  remind_at: Timestamp | null
  task_version: number
  status: 'scheduled' | 'fired' | 'cancelled' | 'skipped'
  reason: string | null
  fired_at: Timestamp | null
  updated_at: Timestamp
}

export interface NotificationsTable {
  /** bigint: pg returns it as a string. */
  sequence: Generated<string>
  id: string
  user_id: string
  task_id: string
  type: string
  payload: JSONColumnType<Record<string, unknown>>
  created_at: DefaultTimestamp
}

export interface ConversationSessionsTable {
  id: string
  user_id: string
  started_at: Timestamp
  last_activity_at: Timestamp
  /** Set to the last activity when a later message finds the session timed out. */
  ended_at: Timestamp | null
}

/** A task a conversation message refers to, and how. */
export interface ConversationTaskRef {
  taskId: string
  kind: 'created' | 'updated' | 'mentioned'
}

export interface ConversationMessagesTable {
  id: string
  /** bigint: pg returns it as a string. The order of arrival. */
  seq: Generated<string>
  session_id: string
  user_id: string
  role: 'user' | 'assistant' | 'system' | 'tool'
  content: string
  task_refs: JSONColumnType<ConversationTaskRef[]>
  token_count: number
  token_encoding: string
  created_at: Timestamp
}

export interface Database {
  tasks: TasksTable
  outbox: OutboxTable
  audit_entries: AuditEntriesTable
  reminders: RemindersTable
  notifications: NotificationsTable
  conversation_sessions: ConversationSessionsTable
  conversation_messages: ConversationMessagesTable
}

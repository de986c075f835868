// What the API does with conversations: appends messages to the right session, pages through
// history, and assembles the assistant's context window (docs/conversations.md).
import { randomUUID } from 'node:crypto'

import type { Kysely } from 'kysely'

import type { Config } from '../../shared/config.js'
import type { ConversationTaskRef, Database } from '../../shared/db/schema.js'
import { AppError } from '../../shared/errors.js'
import type { Tokenizer } from '../../shared/tokens/tokenizer.js'
import { findTasksByIds } from '../tasks/task-repository.js'
import type { Clock } from '../tasks/task-service.js'
import { selectContextWindow } from './context-window.js'
import { buildTaskContext, referencedTaskIds, type TaskContext } from './context-system-message.js'
import type { MessageCursor, SessionCursor } from './conversation-cursor.js'
import {
  endSession,
  findOpenSession,
  findSession,
  insertMessage,
  insertSession,
  listMessages,
  listSessions,
  lockUserConversations,
  recentMessages,
  toMessage,
  toSession,
  touchSession,
  type MessageRow,
  type SessionRow,
} from './conversation-repository.js'
import type {
  AppendMessageBody,
  ConversationContext,
  ConversationMessage,
  ConversationSession,
  MessageRole,
  TaskState,
} from './conversation-schemas.js'

export type ConversationSettings = Omit<Config['conversations'], 'tokenizerEncoding'>

/**
 * Whether a message at `at` still belongs to a session last active at `lastActivityAt`: a gap of
 * exactly the timeout does, one millisecond more does not.
 */
export function continuesSession(lastActivityAt: Date, at: Date, timeoutMinutes: number): boolean {
  return at.getTime() - lastActivityAt.getTime() <= timeoutMinutes * 60_000
}

interface WindowMessage {
  role: MessageRole
  content: string
  tokens: number
  taskRefs: ConversationTaskRef[]
}

function conversationNotFound(id: string): AppError {
  return new AppError('API_CONVERSATION_NOT_FOUND', `conversation not found: ${id}`, {
    statusCode: 404,
  })
}

export class ConversationService {
  readonly #db: Kysely<Database>
  readonly #tokenizer: Tokenizer
  readonly #settings: ConversationSettings
  readonly #now: Clock

  constructor(
    db: Kysely<Database>,
    tokenizer: Tokenizer,
    settings: ConversationSettings,
    now: Clock = () => new Date(),
  ) {
    this.#db = db
    this.#tokenizer = tokenizer
    this.#settings = settings
    this.#now = now
  }

  async append(
    userId: string,
    body: AppendMessageBody,
  ): Promise<ConversationMessage & { newSession: boolean }> {
    // Stored as the tasks table spells ids, so references compare equal whatever case was sent.
    const taskRefs = (body.taskRefs ?? []).map((ref) => ({
      ...ref,
      taskId: ref.taskId.toLowerCase(),
    }))
    await this.#checkTaskRefs(userId, taskRefs)
    const tokenCount = this.#tokenizer.count(body.content)

    return this.#db.transaction().execute(async (trx) => {
      await lockUserConversations(trx, userId)
      // Read the clock under the lock, so one user's messages get times in the order they land.
      const now = this.#now()
      const open = await findOpenSession(trx, userId)
      const session = open !== undefined && this.#isCurrent(open, now) ? open : undefined
      if (session !== undefined) {
        await touchSession(trx, session.id, now)
      } else if (open !== undefined) {
        await endSession(trx, open.id, open.last_activity_at)
      }

      const sessionId = session?.id ?? randomUUID()
      if (session === undefined) {
        const row = { id: sessionId, user_id: userId, started_at: now, last_activity_at: now }
        await insertSession(trx, { ...row, ended_at: null })
      }
      const message = await insertMessage(trx, {
        id: randomUUID(),
        sessionId,
        userId,
        role: body.role,
        content: body.content,
        taskRefs,
        tokenCount,
        tokenEncoding: this.#tokenizer.encoding,
        createdAt: now,
      })

      return { ...toMessage(message), newSession: session === undefined }
    })
  }

  async listSessions(
    userId: string,
    page: { limit: number; after?: SessionCursor | undefined },
  ): Promise<ConversationSession[]> {
    const now = this.#now()
    const rows = await listSessions(this.#db, userId, page)

    return rows.map((row) => toSession(row, this.#endedAt(row, now)))
  }

  async listMessages(
    userId: string,
    sessionId: string,
    page: { limit: number; order: 'asc' | 'desc'; after?: MessageCursor | undefined },
  ): Promise<{ messages: ConversationMessage[]; lastSeq: string | undefined }> {
    const session = await findSession(this.#db, userId, sessionId)
    if (session === undefined) {
      throw conversationNotFound(sessionId)
    }

    const rows = await listMessages(this.#db, userId, sessionId, page)

    return { messages: rows.map(toMessage), lastSeq: rows[rows.length - 1]?.seq }
  }

  /** The context window of the user's current session; empty when the last one timed out. */
  async context(userId: string): Promise<ConversationContext> {
    const now = this.#now()
    const { contextMaxMessages: maxMessages, contextMaxTokens: maxTokens } = this.#settings
    const open = await findOpenSession(this.#db, userId)
    const session = open !== undefined && this.#isCurrent(open, now) ? open : undefined
    const rows =
      session === undefined ? [] : await recentMessages(this.#db, userId, session.id, maxMessages)
    const recent = rows.map((row) => this.#windowMessage(row))
    const tasks = await this.#currentTasks(userId, referencedTaskIds(recent))

    const tokenizer = this.#tokenizer
    const window = selectContextWindow(
      recent,
      { maxMessages, maxTokens },
      {
        messageTokens: (message) => tokenizer.messageTokens(message.role, message.tokens),
        systemMessage: (messages): TaskContext & { tokens: number } => {
          const context = buildTaskContext(messages, tasks)

          return {
            ...context,
            tokens: tokenizer.messageTokens('system', tokenizer.count(context.content)),
          }
        },
        replyPrimingTokens: tokenizer.replyPrimingTokens,
      },
    )
    const messages = [
      { role: 'system' as const, content: window.system.content },
      ...window.messages.map(({ role, content }) => ({ role, content })),
    ]

    return {
      messages,
      metadata: {
        sessionId: session?.id ?? null,
        totalTokens: window.totalTokens,
        maxTokens,
        maxMessages,
        encoding: tokenizer.encoding,
        overBudget: window.overBudget,
        it: window.system.it,
        tasks: window.system.tasks,
      },
    }
  }

  #isCurrent(session: SessionRow, now: Date): boolean {
    return continuesSession(session.last_activity_at, now, this.#settings.sessionTimeoutMinutes)
  }

  // A timed-out session reads as ended at its last activity, before a later message stores that.
  #endedAt(session: SessionRow, now: Date): Date | null {
    if (session.ended_at !== null || this.#isCurrent(session, now)) {
      return session.ended_at
    }

    return session.last_activity_at
  }

  #windowMessage(row: MessageRow): WindowMessage {
    // Counts stored under another encoding are recounted: the budget is the configured model's.
    const tokens =
      row.token_encoding === this.#tokenizer.encoding
        ? row.token_count
        : this.#tokenizer.count(row.content)

    return { role: row.role, content: row.content, tokens, taskRefs: row.task_refs }
  }

  async #currentTasks(userId: string, ids: string[]): Promise<Map<string, TaskState>> {
    const tasks = await findTasksByIds(this.#db, userId, ids)

    return new Map(
      tasks.map((task) => [
        task.id,
        {
          id: task.id,
          title: task.title,
          status: task.status,
          priority: task.priority,
          dueAt: task.dueAt,
          timeZone: task.timeZone,
          tags: task.tags,
          deleted: task.deleted,
        },
      ]),
    )
  }

  // Another user's task is as unknown as a missing one; a deleted task of the user's own is known.
  async #checkTaskRefs(userId: string, refs: readonly ConversationTaskRef[]): Promise<void> {
    const ids = [...new Set(refs.map((ref) => ref.taskId))]
    const found = new Set((await findTasksByIds(this.#db, userId, ids)).map((task) => task.id))
    const missing = ids.filter((id) => !found.has(id))
    if (missing.length > 0) {
      throw new AppError('API_TASK_REF_NOT_FOUND', `task not found: ${missing.join(', ')}`, {
        statusCode: 400,
        details: { field: 'taskRefs', taskIds: missing },
      })
    }
  }
}

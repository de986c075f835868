// The HTTP shapes of conversations: the message a client appends, the pages of history, and the
// context window an assistant sends to a model (docs/conversations.md).
import Type, { type Static } from 'typebox'

import { TaskSnapshotSchema } from '../../events/catalogue.js'

/** Longest message content, in characters (Unicode code points, as JSON Schema counts them). */
export const MESSAGE_CONTENT_MAX = 32_000
/** Most task references one message may carry. */
export const TASK_REFS_MAX = 50
/**
 * Body limit of the append route: 32,000 characters escaped as JSON take up to 12 bytes each
 * (an emoji as `\ud83d\ude00`), so the content limit, not the byte limit, is what a client meets.
 */
export const APPEND_BODY_LIMIT_BYTES = 512 * 1024

export const MESSAGE_ROLES = ['user', 'assistant', 'system', 'tool'] as const
export type MessageRole = (typeof MESSAGE_ROLES)[number]

const Role = Type.Union([
  Type.Literal('user'),
  Type.Literal('assistant'),
  Type.Literal('system'),
  Type.Literal('tool'),
])
const TaskRef = Type.Object(
  {
    taskId: Type.String({ format: 'uuid' }),
    kind: Type.Union([Type.Literal('created'), Type.Literal('updated'), Type.Literal('mentioned')]),
  },
  { additionalProperties: false },
)
const Instant = Type.String({ format: 'date-time' })
const PageLimit = Type.String({
  pattern: '^(?:[1-9]|[1-9][0-9]|100)$',
  description: '1 to 100, default 20',
})
const Cursor = Type.String({ minLength: 1, maxLength: 500 })

// No tokenCount here: the server counts tokens, and a client-sent count is an unknown field.
export const AppendMessageBody = Type.Object(
  {
    role: Role,
    content: Type.String({ minLength: 1, maxLength: MESSAGE_CONTENT_MAX, pattern: '\\S' }),
    taskRefs: Type.Optional(Type.Array(TaskRef, { maxItems: TASK_REFS_MAX })),
  },
  { additionalProperties: false },
)
export type AppendMessageBody = Static<typeof AppendMessageBody>

export const MessageSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  sessionId: Type.String({ format: 'uuid' }),
  role: Role,
  content: Type.String(),
  taskRefs: Type.Array(TaskRef),
  tokenCount: Type.Integer({ minimum: 0, description: 'content tokens, counted by the server' }),
  createdAt: Instant,
})
export type ConversationMessage = Static<typeof MessageSchema>

export const AppendMessageResponse = Type.Intersect([
  MessageSchema,
  Type.Object({ newSession: Type.Boolean({ description: 'this message started a session' }) }),
])

export const SessionSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  startedAt: Instant,
  lastActivityAt: Instant,
  endedAt: Type.Union([Instant, Type.Null()], {
    description: 'the last activity once the session has timed out; null while it is current',
  }),
})
export type ConversationSession = Static<typeof SessionSchema>

export const ListSessionsQuery = Type.Object(
  { limit: Type.Optional(PageLimit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
)
export type ListSessionsQuery = Static<typeof ListSessionsQuery>

export const ListMessagesQuery = Type.Object(
  {
    limit: Type.Optional(PageLimit),
    cursor: Type.Optional(Cursor),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  },
  { additionalProperties: false },
)
export type ListMessagesQuery = Static<typeof ListMessagesQuery>

export const SessionParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

export const SessionListResponse = Type.Object({
  items: Type.Array(SessionSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const MessageListResponse = Type.Object({
  items: Type.Array(MessageSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

/** A referenced task as it is in the tasks table now, as the system message shows it. */
export const TaskStateSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  title: Type.String(),
  status: TaskSnapshotSchema.properties.status,
  priority: TaskSnapshotSchema.properties.priority,
  dueAt: Type.Union([Instant, Type.Null()]),
  timeZone: Type.String(),
  tags: Type.Array(Type.String()),
  deleted: Type.Boolean(),
})
export type TaskState = Static<typeof TaskStateSchema>

export const ContextResponse = Type.Object({
  messages: Type.Array(Type.Object({ role: Role, content: Type.String() }), {
    description: 'the system message, then the window of the current session, oldest first',
  }),
  metadata: Type.Object({
    sessionId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], {
      description: 'null when the user has no current session',
    }),
    totalTokens: Type.Integer({ description: 'every message above with its chat framing' }),
    maxTokens: Type.Integer(),
    maxMessages: Type.Integer(),
    encoding: Type.String(),
    overBudget: Type.Boolean({ description: 'even the newest message alone exceeds maxTokens' }),
    it: Type.Union([TaskStateSchema, Type.Null()], {
      description: 'the most recently referenced task in the window: what "it" means',
    }),
    tasks: Type.Array(TaskStateSchema, { description: 'every task referenced in the window' }),
  }),
})
export type ConversationContext = Static<typeof ContextResponse>

// The event contract: every event type taskstream publishes, the topic it travels on, and the
// JSON Schema of its payload. Types are derived from the schemas, so the two cannot drift.
import Type, { type Static, type TSchema } from 'typebox'

const Instant = Type.String({ format: 'date-time' })
const NullableInstant = Type.Union([Instant, Type.Null()])

/** A task as the API shows it, carried in every task event. */
export const TaskSnapshotSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    userId: Type.String({ minLength: 1 }),
    title: Type.String({ minLength: 1 }),
    description: Type.String(),
    priority: Type.Union([
      Type.Literal('low'),
      Type.Literal('medium'),
      Type.Literal('high'),
      Type.Literal('urgent'),
    ]),
    tags: Type.Array(Type.String()),
    status: Type.Union([Type.Literal('open'), Type.Literal('completed')]),
    dueAt: NullableInstant,
    timeZone: Type.String({ minLength: 1 }),
    reminderOffsetMinutes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    /** The recurrence rule as stored; `null` for a one-off task. */
    recurrence: Type.Union([Type.Object({}, { additionalProperties: true }), Type.Null()]),
    seriesId: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    /** The series' first due date, which presets are anchored on. */
    seriesAnchor: NullableInstant,
    /** 1 for a series' first task, 2 for the next, and so on. */
    occurrence: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]),
    completedAt: NullableInstant,
    version: Type.Integer({ minimum: 1 }),
    createdAt: Instant,
    updatedAt: Instant,
  },
  { additionalProperties: false },
)
export type TaskSnapshot = Static<typeof TaskSnapshotSchema>

/** The payload of every task.* event: the task after the change (before it, for a delete). */
const TaskChangeSchema = Type.Object(
  {
    task: TaskSnapshotSchema,
    /** The task's version after the change; consumers use it to ignore stale events. */
    version: Type.Integer({ minimum: 1 }),
    userId: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
)

const TaskUpdatedSchema = Type.Object(
  {
    task: TaskSnapshotSchema,
    version: Type.Integer({ minimum: 1 }),
    userId: Type.String({ minLength: 1 }),
    /** The names of the fields the update changed. */
    changed: Type.Array(Type.String()),
  },
  { additionalProperties: false },
)

const ReminderFiredSchema = Type.Object(
  {
    taskId: Type.String({ format: 'uuid' }),
    userId: Type.String({ minLength: 1 }),
    title: Type.String(),
    dueAt: Instant,
    remindAt: Instant,
    firedAt: Instant,
    /** How long after `remindAt` the reminder fired, in milliseconds; never negative. */
    lateMs: Type.Integer({ minimum: 0 }),
  },
  { additionalProperties: false },
)

const TaskCreateRequestedSchema = Type.Object(
  {
    seriesId: Type.String({ format: 'uuid' }),
    /** The occurrence number of the task to create; with the series id, its idempotency key. */
    occurrence: Type.Integer({ minimum: 2 }),
    userId: Type.String({ minLength: 1 }),
    previousTaskId: Type.String({ format: 'uuid' }),
    dueAt: Instant,
    seriesAnchor: Instant,
    title: Type.String({ minLength: 1 }),
    description: Type.String(),
    priority: TaskSnapshotSchema.properties.priority,
    tags: Type.Array(Type.String()),
    timeZone: Type.String({ minLength: 1 }),
    reminderOffsetMinutes: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
    recurrence: Type.Object({}, { additionalProperties: true }),
  },
  { additionalProperties: false },
)

/** The topics, by role. Deployments may prefix them (see `topicPrefix`). */
export const TOPICS = {
  tasks: 'tasks',
  notifications: 'notifications',
  taskCommands: 'task-commands',
} as const
export type TopicName = (typeof TOPICS)[keyof typeof TOPICS]

/** Every event type with its topic and payload schema. */
export const EVENT_CATALOGUE = {
  'task.created': { topic: TOPICS.tasks, schema: TaskChangeSchema },
  'task.updated': { topic: TOPICS.tasks, schema: TaskUpdatedSchema },
  'task.deleted': { topic: TOPICS.tasks, schema: TaskChangeSchema },
  'task.completed': { topic: TOPICS.tasks, schema: TaskChangeSchema },
  'reminder.fired': { topic: TOPICS.notifications, schema: ReminderFiredSchema },
  'task.create.requested': { topic: TOPICS.taskCommands, schema: TaskCreateRequestedSchema },
} as const satisfies Record<string, { topic: TopicName; schema: TSchema }>

export type EventType = keyof typeof EVENT_CATALOGUE
export type EventPayload<T extends EventType> = Static<(typeof EVENT_CATALOGUE)[T]['schema']>

export const EVENT_TYPES = Object.keys(EVENT_CATALOGUE) as EventType[]

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_CATALOGUE, value)
}

export function topicOf(type: EventType): TopicName {
  return EVENT_CATALOGUE[type].topic
}

/** The dead-letter topic of a topic: where events go that no retry can mend. */
export function deadLetterTopicOf(topic: string): string {
  return `${topic}.dlq`
}

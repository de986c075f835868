// The HTTP shapes of tasks: request bodies, query strings and responses, as JSON Schema
// (TypeBox), so Fastify validates them and the OpenAPI document describes them.
import Type, { type Static } from 'typebox'

import { TaskSnapshotSchema } from '../../events/catalogue.js'
import { recurrenceRuleSchema } from '../../shared/recurrence/recurrence-rule.js'

const RULE_DESCRIPTION = `A recurrence rule (docs/recurrence.md), of this schema: ${JSON.stringify(recurrenceRuleSchema)}`

export const TITLE_MAX = 500
export const DESCRIPTION_MAX = 10_000
export const TAGS_MAX = 20
export const TAG_MAX = 50
/** A reminder can be set up to a year before the due date. */
export const REMINDER_OFFSET_MAX_MINUTES = 525_600

const Priority = TaskSnapshotSchema.properties.priority
const Title = Type.String({ minLength: 1, maxLength: TITLE_MAX, pattern: '\\S' })
const Description = Type.String({ maxLength: DESCRIPTION_MAX })
const Tags = Type.Array(Type.String({ minLength: 1, maxLength: TAG_MAX, pattern: '^[^\\s,]+$' }), {
  maxItems: TAGS_MAX,
  uniqueItems: true,
})
const DueAt = Type.Union([Type.String({ minLength: 1, maxLength: 40 }), Type.Null()], {
  description:
    'An ISO 8601 instant (2026-03-08T07:30:00Z) or a local date-time without offset ' +
    '(2026-03-08T02:30), read in the task time zone',
})
const TimeZone = Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone' })
const ReminderOffset = Type.Union([
  Type.Integer({ minimum: 0, maximum: REMINDER_OFFSET_MAX_MINUTES }),
  Type.Null(),
])
// Only the outline is checked here: validateRecurrenceRule names each problem with its own
// code (unknown preset, both until and count, ...), where the full schema's union would answer
// a heap of alternatives.
const Recurrence = Type.Union([
  Type.Object({}, { additionalProperties: true, description: RULE_DESCRIPTION }),
  Type.Null(),
])

// The fields a request may set; only the title is required, and only on create.
const settableFields = {
  description: Type.Optional(Description),
  priority: Type.Optional(Priority),
  tags: Type.Optional(Tags),
  dueAt: Type.Optional(DueAt),
  timeZone: Type.Optional(TimeZone),
  reminderOffsetMinutes: Type.Optional(ReminderOffset),
  recurrence: Type.Optional(Recurrence),
}

export const CreateTaskBody = Type.Object(
  { title: Title, ...settableFields },
  { additionalProperties: false },
)
export type CreateTaskBody = Static<typeof CreateTaskBody>

export const UpdateTaskBody = Type.Object(
  {
    title: Type.Optional(Title),
    ...settableFields,
    status: Type.Optional(TaskSnapshotSchema.properties.status),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type UpdateTaskBody = Static<typeof UpdateTaskBody>

export const SORT_FIELDS = ['dueAt', 'priority', 'createdAt', 'title'] as const
export type SortField = (typeof SORT_FIELDS)[number]

export const ListTasksQuery = Type.Object(
  {
    status: Type.Optional(TaskSnapshotSchema.properties.status),
    priority: Type.Optional(Priority),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: TAG_MAX })),
    dueBefore: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'as dueAt' })),
    dueAfter: Type.Optional(Type.String({ minLength: 1, maxLength: 40, description: 'as dueAt' })),
    q: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'keyword in title or description' }),
    ),
    sort: Type.Optional(Type.Union(SORT_FIELDS.map((f) => Type.Literal(f)))),
    order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
    limit: Type.Optional(
      Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|100)$', description: '1 to 100, default 20' }),
    ),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 500 })),
  },
  { additionalProperties: false },
)
export type ListTasksQuery = Static<typeof ListTasksQuery>

export const TaskParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

/** A task as the single-task endpoints answer: the event snapshot plus a preview of its series. */
export const TaskResponse = Type.Object(
  {
    ...TaskSnapshotSchema.properties,
    nextOccurrenceAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description:
        "The series' next occurrence after this task's due date; null for a one-off task or " +
        'a series that has ended',
    }),
  },
  { additionalProperties: false },
)
export type TaskResponse = Static<typeof TaskResponse>

export const TaskListResponse = Type.Object({
  items: Type.Array(TaskResponse),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

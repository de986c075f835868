// What the API does to tasks. Each change and the event that describes it are written in one
// transaction (through the outbox), so the event stream never disagrees with the table.
import { randomUUID } from 'node:crypto'

import type { Kysely } from 'kysely'

import type { EventPayload, TaskSnapshot } from '../../events/catalogue.js'
import type { AnyCloudEvent } from '../../events/cloud-event.js'
import type { Database } from '../../shared/db/schema.js'
import { AppError } from '../../shared/errors.js'
import { enqueueEvents } from '../../shared/outbox/outbox-repository.js'
import { validateRecurrenceRule } from '../../shared/recurrence/recurrence-rule.js'
import { isValidTimeZone, parseDueDate } from '../../shared/time/wall-time.js'
import { taskEvent, taskUpdatedEvent } from './task-events.js'
import {
  findTask,
  insertOccurrence,
  insertTask,
  listTasks,
  markDeleted,
  saveTask,
  type TaskFilter,
  type TaskPage,
} from './task-repository.js'
import type { CreateTaskBody, UpdateTaskBody } from './task-schemas.js'

export type Clock = () => Date

function notFound(id: string): AppError {
  return new AppError('API_TASK_NOT_FOUND', `task not found: ${id}`, { statusCode: 404 })
}

/** The zone's IANA name as IANA spells it (`europe/madrid` is stored as `Europe/Madrid`). */
function checkTimeZone(timeZone: string): string {
  if (!isValidTimeZone(timeZone)) {
    throw new AppError('API_UNKNOWN_TIME_ZONE', `unknown time zone: ${timeZone}`, {
      statusCode: 400,
      details: { field: 'timeZone' },
    })
  }

  return new Intl.DateTimeFormat('en-US', { timeZone }).resolvedOptions().timeZone
}

/** Checks the fields that depend on each other, once the change is applied. */
function checkConsistency(task: TaskSnapshot): void {
  if (task.reminderOffsetMinutes !== null && task.dueAt === null) {
    throw new AppError('API_REMINDER_WITHOUT_DUE_DATE', 'a reminder needs a due date', {
      statusCode: 400,
      details: { field: 'reminderOffsetMinutes' },
    })
  }
  if (task.recurrence !== null && task.dueAt === null) {
    throw new AppError('API_RECURRENCE_WITHOUT_DUE_DATE', 'a recurring task needs a due date', {
      statusCode: 400,
      details: { field: 'recurrence' },
    })
  }
  if (task.recurrence !== null) {
    validateRecurrenceRule(task.recurrence, task.timeZone)
  }
}

function checkVersion(task: TaskSnapshot, expected: number | undefined): void {
  if (expected !== undefined && expected !== task.version) {
    throw new AppError(
      'API_VERSION_MISMATCH',
      `task has changed: version is ${task.version}, not ${expected}`,
      { statusCode: 412, details: { currentVersion: task.version } },
    )
  }
}

/** The plainly copied fields of an update that the request set. */
function definedFields(fields: Omit<UpdateTaskBody, 'status'>): Partial<TaskSnapshot> {
  const { title, description, priority, tags, reminderOffsetMinutes } = fields
  const copied = { title, description, priority, tags, reminderOffsetMinutes }

  return Object.fromEntries(Object.entries(copied).filter(([, value]) => value !== undefined))
}

export class TaskService {
  readonly #db: Kysely<Database>
  readonly #now: Clock

  constructor(db: Kysely<Database>, now: Clock = () => new Date()) {
    this.#db = db
    this.#now = now
  }

  async create(userId: string, body: CreateTaskBody): Promise<TaskSnapshot> {
    const now = this.#now()
    const id = randomUUID()
    const timeZone = checkTimeZone(body.timeZone ?? 'UTC')
    const dueAt = body.dueAt == null ? null : parseDueDate(body.dueAt, timeZone).toISOString()
    const recurrence = body.recurrence ?? null
    const task: TaskSnapshot = {
      id,
      userId,
      title: body.title.trim(),
      description: body.description ?? '',
      priority: body.priority ?? 'medium',
      tags: body.tags ?? [],
      status: 'open',
      dueAt,
      timeZone,
      reminderOffsetMinutes: body.reminderOffsetMinutes ?? null,
      recurrence,
      seriesId: recurrence === null ? null : id,
      seriesAnchor: recurrence === null ? null : dueAt,
      occurrence: recurrence === null ? null : 1,
      completedAt: null,
      version: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    }
    checkConsistency(task)

    await this.#db.transaction().execute(async (trx) => {
      await insertTask(trx, task)
      await enqueueEvents(trx, [taskEvent('task.created', task, now)])
    })

    return task
  }

  /**
   * Creates the task a `task.create.requested` command asks for, with its `task.created` event,
   * unless the series already has that occurrence (a repeated command, or a second completion
   * of the same task): then it changes nothing and returns undefined. A command whose previous
   * task was deleted meanwhile still creates the task: it was asked for by a completion, and
   * the user can delete it like any other.
   */
  async createOccurrence(
    command: EventPayload<'task.create.requested'>,
  ): Promise<TaskSnapshot | undefined> {
    const now = this.#now()
    const task: TaskSnapshot = {
      id: randomUUID(),
      userId: command.userId,
      title: command.title,
      description: command.description,
      priority: command.priority,
      tags: command.tags,
      status: 'open',
      dueAt: command.dueAt,
      timeZone: command.timeZone,
      reminderOffsetMinutes: command.reminderOffsetMinutes,
      recurrence: command.recurrence,
      seriesId: command.seriesId,
      seriesAnchor: command.seriesAnchor,
      occurrence: command.occurrence,
      completedAt: null,
      version: 1,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
    }
    checkConsistency(task)

    return this.#db.transaction().execute(async (trx) => {
      const inserted = await insertOccurrence(trx, task)
      if (!inserted) {
        return undefined
      }

      await enqueueEvents(trx, [taskEvent('task.created', task, now)])

      return task
    })
  }

  async get(userId: string, id: string): Promise<TaskSnapshot> {
    const task = await findTask(this.#db, userId, id)
    if (task === undefined) {
      throw notFound(id)
    }

    return task
  }

  async list(userId: string, filter: TaskFilter, page: TaskPage) {
    try {
      return await listTasks(this.#db, userId, filter, page)
    } catch (err) {
      // A cursor is base64 JSON anyone can edit; PostgreSQL refuses a value of the wrong type
      // (data exception, class 22) and that is the client's mistake, not ours.
      const code = (err as { code?: unknown }).code
      if (page.after !== undefined && typeof code === 'string' && code.startsWith('22')) {
        throw new AppError('API_INVALID_CURSOR', 'cursor is not one this API issued', {
          statusCode: 400,
          cause: err,
        })
      }
      throw err
    }
  }

  async update(
    userId: string,
    id: string,
    body: UpdateTaskBody,
    expectedVersion?: number,
  ): Promise<TaskSnapshot> {
    return this.#mutate(userId, id, expectedVersion, (task, now) => {
      const { status, ...fields } = body
      const next: TaskSnapshot = { ...task }
      const timeZone = checkTimeZone(fields.timeZone ?? task.timeZone)
      Object.assign(next, definedFields(fields))
      next.title = next.title.trim()
      next.timeZone = timeZone
      if (fields.dueAt !== undefined) {
        next.dueAt =
          fields.dueAt === null ? null : parseDueDate(fields.dueAt, timeZone).toISOString()
      }
      if (fields.recurrence !== undefined) {
        next.recurrence = fields.recurrence
        next.seriesId = fields.recurrence === null ? task.seriesId : (task.seriesId ?? task.id)
        next.seriesAnchor =
          fields.recurrence === null ? task.seriesAnchor : (task.seriesAnchor ?? next.dueAt)
        next.occurrence = fields.recurrence === null ? task.occurrence : (task.occurrence ?? 1)
      }
      if (status === 'open' && task.status === 'completed') {
        next.status = 'open'
        next.completedAt = null
      }
      if (status === 'completed' && task.status === 'open') {
        next.status = 'completed'
        next.completedAt = now.toISOString()
      }
      checkConsistency(next)

      const changed = Object.keys(next).filter(
        (key) =>
          JSON.stringify(next[key as keyof TaskSnapshot]) !==
          JSON.stringify(task[key as keyof TaskSnapshot]),
      )
      if (changed.length === 0) {
        return undefined
      }

      // Completing through PATCH is still a completion: the recurrence role listens for it.
      const completed = next.status === 'completed' && task.status === 'open'
      const saved = { ...next, version: task.version + 1, updatedAt: now.toISOString() }
      const event = completed
        ? taskEvent('task.completed', saved, now)
        : taskUpdatedEvent(saved, changed, now)

      return { task: saved, event }
    })
  }

  /** Completes a task; completing one that is already completed changes nothing. */
  async complete(userId: string, id: string, expectedVersion?: number): Promise<TaskSnapshot> {
    return this.#mutate(userId, id, expectedVersion, (task, now) => {
      if (task.status === 'completed') {
        return undefined
      }

      const saved: TaskSnapshot = {
        ...task,
        status: 'completed',
        completedAt: now.toISOString(),
        version: task.version + 1,
        updatedAt: now.toISOString(),
      }

      return { task: saved, event: taskEvent('task.completed', saved, now) }
    })
  }

  async delete(userId: string, id: string, expectedVersion?: number): Promise<void> {
    const now = this.#now()
    await this.#db.transaction().execute(async (trx) => {
      const task = await findTask(trx, userId, id, { forUpdate: true })
      if (task === undefined) {
        throw notFound(id)
      }
      checkVersion(task, expectedVersion)

      const version = task.version + 1
      await markDeleted(trx, id, now, version)
      await enqueueEvents(trx, [taskEvent('task.deleted', { ...task, version }, now)])
    })
  }

  async #mutate(
    userId: string,
    id: string,
    expectedVersion: number | undefined,
    change: (
      task: TaskSnapshot,
      now: Date,
    ) => { task: TaskSnapshot; event: AnyCloudEvent } | undefined,
  ): Promise<TaskSnapshot> {
    const now = this.#now()

    return this.#db.transaction().execute(async (trx) => {
      const task = await findTask(trx, userId, id, { forUpdate: true })
      if (task === undefined) {
        throw notFound(id)
      }
      checkVersion(task, expectedVersion)

      const result = change(task, now)
      if (result === undefined) {
        return task
      }

      await saveTask(trx, result.task)
      await enqueueEvents(trx, [result.event])

      return result.task
    })
  }
}

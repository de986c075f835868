// Every SQL statement about tasks. Handlers and services call these named functions; rows
// become TaskSnapshots here and nowhere else.
import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely'

import type { TaskSnapshot } from '../../events/catalogue.js'
import type { Database, TasksTable } from '../../shared/db/schema.js'
import type { SortField } from './task-schemas.js'

type Db = Kysely<Database> | Transaction<Database>
type TaskRow = Selectable<TasksTable>

const iso = (value: Date | null) => (value === null ? null : value.toISOString())

export function toSnapshot(row: TaskRow): TaskSnapshot {
  return {
    id: row.id,
    userId: row.user_id,
    title: row.title,
    description: row.description,
    priority: row.priority,
    tags: row.tags,
    status: row.status,
    dueAt: iso(row.due_at),
    timeZone: row.time_zone,
    reminderOffsetMinutes: row.reminder_offset_minutes,
    recurrence: row.recurrence,
    seriesId: row.series_id,
    seriesAnchor: iso(row.series_anchor),
    occurrence: row.occurrence,
    completedAt: iso(row.completed_at),
    version: row.version,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  }
}

function toRow(task: TaskSnapshot) {
  return {
    id: task.id,
    user_id: task.userId,
    title: task.title,
    description: task.description,
    priority: task.priority,
    tags: task.tags,
    status: task.status,
    due_at: task.dueAt,
    time_zone: task.timeZone,
    reminder_offset_minutes: task.reminderOffsetMinutes,
    recurrence: task.recurrence === null ? null : JSON.stringify(task.recurrence),
    series_id: task.seriesId,
    series_anchor: task.seriesAnchor,
    occurrence: task.occurrence,
    completed_at: task.completedAt,
    version: task.version,
    created_at: task.createdAt,
    updated_at: task.updatedAt,
  }
}

export async function insertTask(db: Db, task: TaskSnapshot): Promise<void> {
  await db.insertInto('tasks').values(toRow(task)).execute()
}

/**
 * Inserts a task unless its series already has that occurrence; returns false when it did
 * (the recurrence command was seen before).
 */
export async function insertOccurrence(db: Db, task: TaskSnapshot): Promise<boolean> {
  const result = await db
    .insertInto('tasks')
    .values(toRow(task))
    .onConflict((oc) => oc.columns(['series_id', 'occurrence']).doNothing())
    .executeTakeFirst()

  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1
}

/** A live (not deleted) task of this user, locked for update when inside a transaction. */
export async function findTask(
  db: Db,
  userId: string,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<TaskSnapshot | undefined> {
  let query = db
    .selectFrom('tasks')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)
  if (options.forUpdate === true) {
    query = query.forUpdate()
  }

  const row = await query.executeTakeFirst()

  return row === undefined ? undefined : toSnapshot(row)
}

/** Tasks by id whatever their owner or state, deleted ones included (for other areas' views). */
export async function findTasksByIds(
  db: Db,
  userId: string,
  ids: readonly string[],
): Promise<(TaskSnapshot & { deleted: boolean })[]> {
  if (ids.length === 0) {
    return []
  }

  const rows = await db
    .selectFrom('tasks')
    .selectAll()
    .where('user_id', '=', userId)
    .where('id', 'in', ids)
    .execute()

  return rows.map((row) => ({ ...toSnapshot(row), deleted: row.deleted_at !== null }))
}

export async function saveTask(db: Db, task: TaskSnapshot): Promise<void> {
  const row: Partial<ReturnType<typeof toRow>> = toRow(task)
  delete row.id
  await db.updateTable('tasks').set(row).where('id', '=', task.id).execute()
}

export async function markDeleted(db: Db, id: string, at: Date, version: number): Promise<void> {
  await db
    .updateTable('tasks')
    .set({ deleted_at: at, updated_at: at, version })
    .where('id', '=', id)
    .execute()
}

export interface TaskFilter {
  status?: TaskSnapshot['status'] | undefined
  priority?: TaskSnapshot['priority'] | undefined
  tag?: string | undefined
  dueBefore?: Date | undefined
  dueAfter?: Date | undefined
  q?: string | undefined
}

export interface TaskPage {
  sort: SortField
  order: 'asc' | 'desc'
  limit: number
  /** The sort value and id of the last task of the previous page. */
  after?: { value: string | number | null; id: string } | undefined
}

/** The sort key as SQL. Tasks without a due date sort last in either direction. */
function sortKey(sort: SortField, order: 'asc' | 'desc'): RawBuilder<unknown> {
  switch (sort) {
    case 'dueAt':
      return order === 'asc'
        ? sql`coalesce(due_at, 'infinity'::timestamptz)`
        : sql`coalesce(due_at, '-infinity'::timestamptz)`
    case 'priority':
      return sql`(case priority when 'low' then 1 when 'medium' then 2 when 'high' then 3 else 4 end)`
    case 'createdAt':
      return sql`created_at`
    case 'title':
      return sql`lower(title)`
  }
}

function cursorValue(sort: SortField, value: string | number | null): RawBuilder<unknown> {
  switch (sort) {
    case 'dueAt':
    case 'createdAt':
      return sql`${value}::timestamptz`
    case 'priority':
      return sql`${value}::int`
    case 'title':
      return sql`${value}::text`
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`)
}

export async function listTasks(
  db: Db,
  userId: string,
  filter: TaskFilter,
  page: TaskPage,
): Promise<{
  tasks: TaskSnapshot[]
  last: { value: string | number | null; id: string } | undefined
}> {
  const key = sortKey(page.sort, page.order)
  let query = db
    .selectFrom('tasks')
    .selectAll()
    .select(sql<string | number | null>`${key}::text`.as('sort_value'))
    .where('user_id', '=', userId)
    .where('deleted_at', 'is', null)

  if (filter.status !== undefined) {
    query = query.where('status', '=', filter.status)
  }
  if (filter.priority !== undefined) {
    query = query.where('priority', '=', filter.priority)
  }
  if (filter.tag !== undefined) {
    query = query.where(sql<boolean>`${filter.tag} = any(tags)`)
  }
  if (filter.dueBefore !== undefined) {
    query = query.where('due_at', '<', filter.dueBefore)
  }
  if (filter.dueAfter !== undefined) {
    query = query.where('due_at', '>', filter.dueAfter)
  }
  if (filter.q !== undefined) {
    const pattern = `%${escapeLike(filter.q)}%`
    query = query.where((eb) =>
      eb.or([eb('title', 'ilike', pattern), eb('description', 'ilike', pattern)]),
    )
  }
  if (page.after !== undefined) {
    const value = cursorValue(page.sort, page.after.value)
    const id = page.after.id
    query = query.where(
      page.order === 'asc'
        ? sql<boolean>`(${key}, id) > (${value}, ${id}::uuid)`
        : sql<boolean>`(${key}, id) < (${value}, ${id}::uuid)`,
    )
  }

  const direction = page.order === 'asc' ? sql`asc` : sql`desc`
  const rows = await query
    .orderBy(sql`${key} ${direction}`)
    .orderBy(sql`id ${direction}`)
    .limit(page.limit)
    .execute()
  const lastRow = rows[rows.length - 1]

  return {
    tasks: rows.map(({ sort_value: _sortValue, ...row }) => toSnapshot(row)),
    last: lastRow === undefined ? undefined : { value: lastRow.sort_value, id: lastRow.id },
  }
}

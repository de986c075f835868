// The task endpoints. Handlers parse HTTP (headers, cursors) and call the service; the
// service owns the rules and the transactions.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import Type from 'typebox'

import { AppError } from '../../shared/errors.js'
import { parseDueDate } from '../../shared/time/wall-time.js'
import { ProblemResponse } from '../http/problem-schema.js'
import { decodeCursor, encodeCursor } from './task-cursor.js'
import {
  CreateTaskBody,
  ListTasksQuery,
  TaskListResponse,
  TaskParams,
  TaskResponse,
  UpdateTaskBody,
} from './task-schemas.js'
import { toTaskResponse } from './task-series.js'
import type { TaskService } from './task-service.js'

/**
 * Reads `If-Match: "3"` (or `3`) into the version the task must have; absent or `*` means no
 * precondition. A weak tag (`W/"3"`) never matches: If-Match compares strongly (RFC 9110
 * section 13.1.1).
 */
function expectedVersion(header: string | undefined): number | undefined {
  const value = header?.trim()
  if (value === undefined || value === '*') {
    return undefined
  }
  if (value.startsWith('W/')) {
    throw new AppError('API_VERSION_MISMATCH', 'a weak entity tag never matches in If-Match', {
      statusCode: 412,
    })
  }

  const match = /^"?(\d{1,9})"?$/.exec(value)
  if (match?.[1] === undefined) {
    throw new AppError('API_INVALID_IF_MATCH', 'If-Match must be the task version, as in "3"', {
      statusCode: 400,
    })
  }

  return Number(match[1])
}

/** A dueBefore/dueAfter value: written as `dueAt` is, a local time without offset read in UTC. */
function instantParam(value: string | undefined): Date | undefined {
  return value === undefined ? undefined : parseDueDate(value, 'UTC')
}

const errors = { 400: ProblemResponse, 401: ProblemResponse, 404: ProblemResponse }

export const taskRoutes: FastifyPluginAsyncTypebox<{ tasks: TaskService }> = async (
  app,
  { tasks },
) => {
  app.post(
    '/api/tasks',
    {
      schema: { tags: ['tasks'], body: CreateTaskBody, response: { 201: TaskResponse, ...errors } },
    },
    async (request, reply) => {
      const task = await tasks.create(request.userId, request.body)
      request.log.info({ taskId: task.id }, 'task created')

      return reply
        .code(201)
        .header('etag', `"${task.version}"`)
        .header('location', `/api/tasks/${task.id}`)
        .send(toTaskResponse(task))
    },
  )

  app.get(
    '/api/tasks',
    {
      schema: {
        tags: ['tasks'],
        querystring: ListTasksQuery,
        response: { 200: TaskListResponse, ...errors },
      },
    },
    async (request) => {
      const { sort = 'createdAt', cursor, limit, ...filter } = request.query
      const order =
        request.query.order ?? (sort === 'createdAt' || sort === 'priority' ? 'desc' : 'asc')
      const pageSize = limit === undefined ? 20 : Number(limit)
      const decoded = cursor === undefined ? undefined : decodeCursor(cursor, sort, order)
      const after = decoded === undefined ? undefined : { value: decoded.v, id: decoded.id }
      const page = await tasks.list(
        request.userId,
        {
          status: filter.status,
          priority: filter.priority,
          tag: filter.tag,
          q: filter.q,
          dueBefore: instantParam(filter.dueBefore),
          dueAfter: instantParam(filter.dueAfter),
        },
        { sort, order, limit: pageSize, after },
      )
      const nextCursor =
        page.last === undefined || page.tasks.length < pageSize
          ? null
          : encodeCursor({ s: sort, o: order, v: page.last.value, id: page.last.id })

      return { items: page.tasks.map(toTaskResponse), nextCursor }
    },
  )

  app.get(
    '/api/tasks/:id',
    { schema: { tags: ['tasks'], params: TaskParams, response: { 200: TaskResponse, ...errors } } },
    async (request, reply) => {
      const task = await tasks.get(request.userId, request.params.id)

      return reply.header('etag', `"${task.version}"`).send(toTaskResponse(task))
    },
  )

  app.patch(
    '/api/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        params: TaskParams,
        body: UpdateTaskBody,
        headers: Type.Object({ 'if-match': Type.Optional(Type.String()) }),
        response: { 200: TaskResponse, 412: ProblemResponse, ...errors },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers['if-match'])
      const task = await tasks.update(request.userId, request.params.id, request.body, version)
      request.log.info({ taskId: task.id, version: task.version }, 'task updated')

      return reply.header('etag', `"${task.version}"`).send(toTaskResponse(task))
    },
  )

  app.post(
    '/api/tasks/:id/complete',
    {
      schema: {
        tags: ['tasks'],
        params: TaskParams,
        response: { 200: TaskResponse, 412: ProblemResponse, ...errors },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers['if-match'])
      const task = await tasks.complete(request.userId, request.params.id, version)
      request.log.info({ taskId: task.id, version: task.version }, 'task completed')

      return reply.header('etag', `"${task.version}"`).send(toTaskResponse(task))
    },
  )

  app.delete(
    '/api/tasks/:id',
    {
      schema: {
        tags: ['tasks'],
        params: TaskParams,
        response: { 204: Type.Null(), 412: ProblemResponse, ...errors },
      },
    },
    async (request, reply) => {
      const version = expectedVersion(request.headers['if-match'])
      await tasks.delete(request.userId, request.params.id, version)
      request.log.info({ taskId: request.params.id }, 'task deleted')

      return reply.code(204).send(null)
    },
  )

  return Promise.resolve()
}

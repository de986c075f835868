// A task's audit trail, as the audit role recorded it from the event stream.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Kysely } from 'kysely'
import Type from 'typebox'

import { listAuditTrail } from '../../shared/audit/audit-repository.js'
import type { Database } from '../../shared/db/schema.js'
import { AppError } from '../../shared/errors.js'
import { ProblemResponse } from '../http/problem-schema.js'
import { findTasksByIds } from '../tasks/task-repository.js'
import { TaskParams } from '../tasks/task-schemas.js'

const AuditEntrySchema = Type.Object({
  eventId: Type.String(),
  type: Type.String(),
  taskId: Type.String(),
  userId: Type.String(),
  taskVersion: Type.Integer(),
  eventTime: Type.String({ format: 'date-time' }),
  recordedAt: Type.String({ format: 'date-time' }),
  payload: Type.Object({}, { additionalProperties: true }),
})

export const auditRoutes: FastifyPluginAsyncTypebox<{ db: Kysely<Database> }> = async (
  app,
  { db },
) => {
  app.get(
    '/api/tasks/:id/audit',
    {
      schema: {
        tags: ['tasks'],
        description:
          'The task trail, oldest first. Events reach it asynchronously, within moments.',
        params: TaskParams,
        response: {
          200: Type.Object({ items: Type.Array(AuditEntrySchema) }),
          401: ProblemResponse,
          404: ProblemResponse,
        },
      },
    },
    async (request) => {
      // Deleted tasks keep their trail; another user's task is as unknown as a missing one.
      const [task] = await findTasksByIds(db, request.userId, [request.params.id])
      if (task === undefined) {
        throw new AppError('API_TASK_NOT_FOUND', `task not found: ${request.params.id}`, {
          statusCode: 404,
        })
      }

      return { items: await listAuditTrail(db, request.userId, request.params.id) }
    },
  )

  return Promise.resolve()
}

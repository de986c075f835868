// A user's notifications: the recent ones, newest first and paginated, and a live stream of
// Server-Sent Events that resumes where the client left off.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

import type { DatabaseHandle } from '../../shared/db/database.js'
import type { Logger } from '../../shared/logger.js'
import { AppError } from '../../shared/errors.js'
import { ProblemResponse } from '../http/problem-schema.js'
import { NotificationHub } from './notification-hub.js'
import { listNotifications } from './notification-repository.js'
import {
  ListNotificationsQuery,
  NotificationListResponse,
  StreamHeaders,
  toNotificationBody,
} from './notification-schemas.js'
import { openNotificationStream } from './notification-stream.js'

export interface NotificationRoutesOptions {
  database: DatabaseHandle
  logger: Logger
  /** Comment lines that keep idle streams open through proxies. Default 15 s. */
  heartbeatMs?: number
}

function encodeCursor(sequence: number): string {
  return Buffer.from(JSON.stringify({ b: sequence })).toString('base64url')
}

function decodeCursor(cursor: string): number {
  try {
    const body = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as { b?: unknown }
    if (typeof body.b === 'number' && Number.isSafeInteger(body.b) && body.b > 0) {
      return body.b
    }
  } catch {
    // Falls through to the same answer as any other cursor we did not issue.
  }

  throw new AppError('API_INVALID_CURSOR', 'cursor is not one this API issued', { statusCode: 400 })
}

export const notificationRoutes: FastifyPluginAsyncTypebox<NotificationRoutesOptions> = async (
  app,
  options,
) => {
  const db = options.database.db
  const hub = new NotificationHub({ database: options.database, logger: options.logger })
  app.addHook('onReady', () => hub.start())
  // Open streams would keep the server from closing: end them first.
  app.addHook('preClose', (done) => {
    hub.closeStreams()
    done()
  })
  app.addHook('onClose', () => hub.stop())

  app.get(
    '/api/notifications',
    {
      schema: {
        tags: ['notifications'],
        description: 'The user’s notifications, newest first.',
        querystring: ListNotificationsQuery,
        response: { 200: NotificationListResponse, 400: ProblemResponse, 401: ProblemResponse },
      },
    },
    async (request) => {
      const limit = request.query.limit === undefined ? 20 : Number(request.query.limit)
      const cursor = request.query.cursor
      const beforeSequence = cursor === undefined ? undefined : decodeCursor(cursor)
      const rows = await listNotifications(db, request.userId, { limit, beforeSequence })
      const last = rows[rows.length - 1]
      const nextCursor =
        rows.length < limit || last === undefined ? null : encodeCursor(last.sequence)

      return { items: rows.map(toNotificationBody), nextCursor }
    },
  )

  // TODO(api): browsers' EventSource cannot send Authorization, so a browser needs a proxy that
  // adds the token; a short-lived stream ticket would do without one, once auth has a design.
  app.get(
    '/api/notifications/stream',
    {
      schema: {
        tags: ['notifications'],
        description:
          'Server-Sent Events: `event: reminder.fired`, `id:` the sequence, `data:` the ' +
          'notification as JSON. Send `Last-Event-ID` to get what came after it first.',
        headers: StreamHeaders,
        response: { 400: ProblemResponse, 401: ProblemResponse },
      },
    },
    async (request, reply) => {
      const header = request.headers['last-event-id']
      reply.hijack()
      await openNotificationStream({
        request: request.raw,
        response: reply.raw,
        userId: request.userId,
        lastEventId: header === undefined ? undefined : Number(header),
        hub,
        db,
        log: request.log,
        heartbeatMs: options.heartbeatMs ?? 15_000,
      })
    },
  )

  return Promise.resolve()
}

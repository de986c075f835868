// The conversation endpoints. Handlers parse HTTP (pages, cursors) and call the service; the
// service owns the session rule, the token counts and the context window.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

import { ProblemResponse } from '../http/problem-schema.js'
import {
  decodeMessageCursor,
  decodeSessionCursor,
  encodeMessageCursor,
  encodeSessionCursor,
} from './conversation-cursor.js'
import {
  APPEND_BODY_LIMIT_BYTES,
  AppendMessageBody,
  AppendMessageResponse,
  ContextResponse,
  ListMessagesQuery,
  ListSessionsQuery,
  MessageListResponse,
  SessionListResponse,
  SessionParams,
} from './conversation-schemas.js'
import type { ConversationService } from './conversation-service.js'

const errors = { 400: ProblemResponse, 401: ProblemResponse, 404: ProblemResponse }
const pageSize = (limit: string | undefined) => (limit === undefined ? 20 : Number(limit))

export const conversationRoutes: FastifyPluginAsyncTypebox<{
  conversations: ConversationService
}> = async (app, { conversations }) => {
  app.post(
    '/api/conversations/messages',
    {
      bodyLimit: APPEND_BODY_LIMIT_BYTES,
      schema: {
        tags: ['conversations'],
        description:
          'Appends a message to the current session, or starts one when the last activity is ' +
          'older than the session timeout. The server counts the tokens.',
        body: AppendMessageBody,
        response: { 201: AppendMessageResponse, 413: ProblemResponse, ...errors },
      },
    },
    async (request, reply) => {
      const message = await conversations.append(request.userId, request.body)
      request.log.info(
        { sessionId: message.sessionId, messageId: message.id, newSession: message.newSession },
        'conversation message appended',
      )

      return reply.code(201).send(message)
    },
  )

  app.get(
    '/api/conversations',
    {
      schema: {
        tags: ['conversations'],
        description: 'The sessions, newest first.',
        querystring: ListSessionsQuery,
        response: { 200: SessionListResponse, ...errors },
      },
    },
    async (request) => {
      const limit = pageSize(request.query.limit)
      const { cursor } = request.query
      const after = cursor === undefined ? undefined : decodeSessionCursor(cursor)
      const items = await conversations.listSessions(request.userId, { limit, after })
      const last = items[items.length - 1]
      const nextCursor =
        last === undefined || items.length < limit
          ? null
          : encodeSessionCursor({ startedAt: last.startedAt, id: last.id })

      return { items, nextCursor }
    },
  )

  app.get(
    '/api/conversations/:id/messages',
    {
      schema: {
        tags: ['conversations'],
        description: 'A session’s messages, oldest first unless order=desc.',
        params: SessionParams,
        querystring: ListMessagesQuery,
        response: { 200: MessageListResponse, ...errors },
      },
    },
    async (request) => {
      const limit = pageSize(request.query.limit)
      const { cursor, order = 'asc' } = request.query
      const after = cursor === undefined ? undefined : decodeMessageCursor(cursor, order)
      const page = await conversations.listMessages(request.userId, request.params.id, {
        limit,
        order,
        after,
      })
      const nextCursor =
        page.lastSeq === undefined || page.messages.length < limit
          ? null
          : encodeMessageCursor({ order, seq: page.lastSeq })

      return { items: page.messages, nextCursor }
    },
  )

  app.get(
    '/api/conversations/context',
    {
      schema: {
        tags: ['conversations'],
        description:
          'What the assistant sends to the model: a system message with the current state of ' +
          'the referenced tasks, then the newest messages of the current session that fit.',
        response: { 200: ContextResponse, ...errors },
      },
    },
    async (request) => conversations.context(request.userId),
  )

  return Promise.resolve()
}

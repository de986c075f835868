// Turns every error into an RFC 9457 problem answer (application/problem+json) that says
// what went wrong in words a person understands; internals stay in the log.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

import { isAppError } from '../../shared/errors.js'
import { problem, PROBLEM_CONTENT_TYPE, type Problem } from '../../shared/http/problem-details.js'

export { problem, PROBLEM_CONTENT_TYPE, type Problem }

function sendProblem(reply: FastifyReply, request: FastifyRequest, body: Problem): FastifyReply {
  if (body.status === 401) {
    void reply.header('www-authenticate', 'Bearer')
  }

  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url })
}

/** Maps Fastify's own errors (validation, body parsing, size) to problems. */
function fromFastifyError(err: FastifyError): Problem {
  if (err.validation !== undefined) {
    const errors = err.validation.map((v) => ({
      path: `${err.validationContext ?? 'body'}${v.instancePath || ''}`,
      message:
        v.keyword === 'additionalProperties'
          ? `unknown field: ${String((v.params as { additionalProperty?: string }).additionalProperty)}`
          : (v.message ?? 'is invalid'),
    }))
    const detail = errors.map((e) => `${e.path} ${e.message}`).join('; ')

    return problem(400, 'API_VALIDATION', detail, { errors })
  }

  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return problem(413, 'API_BODY_TOO_LARGE', 'request body is too large')
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return problem(415, 'API_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json')
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return problem(400, 'API_EMPTY_BODY', 'request body is empty; send a json object')
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return problem(400, 'API_MALFORMED_JSON', 'request body is not valid json')
  }
  if (err instanceof SyntaxError) {
    return problem(400, 'API_MALFORMED_JSON', `request body is not valid json: ${err.message}`)
  }

  const status = err.statusCode ?? 500
  if (status >= 400 && status < 500) {
    return problem(status, 'API_BAD_REQUEST', err.message)
  }

  return problem(500, 'API_INTERNAL', 'something went wrong on our side; it has been logged')
}

export function registerProblemHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (isAppError(err)) {
      if (err.statusCode >= 500) {
        request.log.error({ err }, 'request failed')
      }

      return sendProblem(
        reply,
        request,
        problem(err.statusCode, err.code, err.message, err.details ?? {}),
      )
    }

    const body = fromFastifyError(err)
    if (body.status >= 500) {
      request.log.error({ err }, 'request failed')
    }

    return sendProblem(reply, request, body)
  })

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      request,
      problem(
        404,
        'API_ROUTE_NOT_FOUND',
        `no route for ${request.method} ${request.url.split('?')[0] ?? ''}`,
      ),
    ),
  )
}

// Liveness and readiness, for people and for Kubernetes probes.
import type { FastifyInstance } from 'fastify'

import type { EventBus } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../../shared/db/database.js'
import { PROBLEM_CONTENT_TYPE } from '../../shared/http/problem-details.js'
import { checkReadiness } from '../../shared/process/readiness.js'

export function registerHealthRoutes(
  app: FastifyInstance,
  database: DatabaseHandle,
  bus: EventBus,
): void {
  // Probes arrive every few seconds: log them only when something is wrong.
  app.get('/healthz', { schema: { hide: true }, logLevel: 'warn' }, () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    const readiness = await checkReadiness(database, bus)
    if (readiness.ready) {
      return readiness.body
    }

    request.log.warn({ readiness: readiness.body.detail }, 'not ready')

    return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(readiness.body)
  })
}

// Liveness and readiness, for people and for Kubernetes probes.
import type { FastifyInstance } from 'fastify'

import type { EventBus } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../../shared/db/database.js'
import { problem, PROBLEM_CONTENT_TYPE } from './problem.js'

export function registerHealthRoutes(
  app: FastifyInstance,
  database: DatabaseHandle,
  bus: EventBus,
): void {
  app.get('/healthz', { schema: { hide: true } }, () => ({ status: 'ok' }))

  app.get('/readyz', { schema: { hide: true } }, async (request, reply) => {
    const checks = await Promise.allSettled([database.ping(), bus.ping()])
    const [db, broker] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unreachable'))
    if (db === 'ok' && broker === 'ok') {
      return { status: 'ok', database: db, broker, transport: bus.transport }
    }

    request.log.warn({ database: db, broker }, 'not ready')
    const body = problem(503, 'API_NOT_READY', `database: ${db}, broker: ${broker}`, {
      database: db,
      broker,
    })

    return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(body)
  })
}

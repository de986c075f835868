// A worker's own small HTTP server: /healthz and /readyz for probes, and the event bus's routes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'

import type { EventBus } from '../events/event-bus.js'
import { mountEventRoutes } from '../events/event-routes.js'
import type { DatabaseHandle } from '../shared/db/database.js'
import { problem, PROBLEM_CONTENT_TYPE } from '../shared/http/problem-details.js'
import type { Logger } from '../shared/logger.js'
import { checkReadiness } from '../shared/process/readiness.js'

export async function startHealthServer(options: {
  database: DatabaseHandle
  bus: EventBus
  logger: Logger
  port: number
  host: string
}): Promise<FastifyInstance> {
  const loggerInstance: FastifyBaseLogger = options.logger
  const app = Fastify({ loggerInstance })
  // Probes arrive every few seconds: log them only when something is wrong.
  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }))
  app.get('/readyz', { logLevel: 'warn' }, async (request, reply) => {
    const readiness = await checkReadiness(options.database, options.bus)
    if (readiness.ready) {
      return readiness.body
    }

    request.log.warn({ readiness: readiness.body.detail }, 'not ready')

    return reply.code(503).type(PROBLEM_CONTENT_TYPE).send(readiness.body)
  })
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type(PROBLEM_CONTENT_TYPE)
      .send(problem(404, 'WRK_ROUTE_NOT_FOUND', `no route for ${request.method} ${request.url}`)),
  )
  // The adapter's own routes, if it receives by push (Dapr delivers to this port).
  await mountEventRoutes(app, options.bus)
  await app.listen({ port: options.port, host: options.host })

  return app
}

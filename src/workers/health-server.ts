// A worker's own small HTTP server: /healthz and /readyz for probes, and the event bus's routes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'

import type { EventBus } from '../events/event-bus.js'
import { mountEventRoutes } from '../events/event-routes.js'
import type { DatabaseHandle } from '../shared/db/database.js'
import type { Logger } from '../shared/logger.js'

export async function startHealthServer(options: {
  database: DatabaseHandle
  bus: EventBus
  logger: Logger
  port: number
  host: string
}): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: options.logger as FastifyBaseLogger })
  // Probes arrive every few seconds: log them only when something is wrong.
  app.get('/healthz', { logLevel: 'warn' }, () => ({ status: 'ok' }))
  app.get('/readyz', { logLevel: 'warn' }, async (_request, reply) => {
    const checks = await Promise.allSettled([options.database.ping(), options.bus.ping()])
    const [database, broker] = checks.map((c) => (c.status === 'fulfilled' ? 'ok' : 'unreachable'))
    const ready = database === 'ok' && broker === 'ok'

    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ok' : 'unavailable', database, broker })
  })
  // The adapter's own routes, if it receives by push (Dapr delivers to this port).
  await mountEventRoutes(app, options.bus)
  await app.listen({ port: options.port, host: options.host })

  return app
}

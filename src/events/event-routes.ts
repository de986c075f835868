// Mounts an adapter's event routes (EventBus.routes) on a Fastify server, so the backend and the
// worker health server receive pushed events without knowing which adapter runs.
import type { FastifyInstance } from 'fastify'

import { CLOUDEVENTS_CONTENT_TYPE } from './cloud-event.js'
import type { EventBus } from './event-bus.js'

/** Largest event body accepted; above the API's limit, since a refused event is never mended. */
const EVENT_BODY_LIMIT_BYTES = 1024 * 1024

/**
 * Registers the bus's routes in their own encapsulated scope: bodies reach the adapter as text
 * (it decides what a bad body means), and the app's own JSON parsing is left untouched.
 */
export async function mountEventRoutes(app: FastifyInstance, bus: EventBus): Promise<void> {
  const routes = bus.routes?.() ?? []
  if (routes.length === 0) {
    return
  }

  // A plugin scope, so the parsers below apply to these routes only.
  await app.register((scope, _options, ready) => {
    scope.removeContentTypeParser(['application/json'])
    scope.addContentTypeParser(
      ['application/json', CLOUDEVENTS_CONTENT_TYPE],
      { parseAs: 'string', bodyLimit: EVENT_BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    )
    for (const route of routes) {
      scope.route({
        method: route.method,
        url: route.url,
        bodyLimit: EVENT_BODY_LIMIT_BYTES,
        handler: async (request, reply) => {
          const body = typeof request.body === 'string' ? request.body : undefined
          const answer = await route.handle(body)

          return reply.code(answer.status).send(answer.body)
        },
      })
    }
    ready()
  })
}

// Builds the Fastify application: content parsing limits, auth, problem answers, OpenAPI at
// /docs, and the route plugins. Starting and stopping it is server.ts's job.
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'

import type { EventBus } from '../events/event-bus.js'
import { mountEventRoutes } from '../events/event-routes.js'
import { loadConfig, type Config } from '../shared/config.js'
import type { DatabaseHandle } from '../shared/db/database.js'
import type { Logger } from '../shared/logger.js'
import { loadTokenizer } from '../shared/tokens/tokenizer.js'
import { auditRoutes } from './audit/audit-routes.js'
import type { Authenticator } from './auth/authenticator.js'
import { conversationRoutes } from './conversations/conversation-routes.js'
import { ConversationService } from './conversations/conversation-service.js'
import { registerHealthRoutes } from './http/health-routes.js'
import { registerProblemHandlers } from './http/problem.js'
import { rejectInvalidText } from './http/text-guard.js'
import { notificationRoutes } from './notifications/notification-routes.js'
import { TaskService, type Clock } from './tasks/task-service.js'
import { taskRoutes } from './tasks/task-routes.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated user: the bearer token's subject. */
    userId: string
  }
}

export interface AppDependencies {
  database: DatabaseHandle
  bus: EventBus
  authenticate: Authenticator
  logger: Logger
  now?: Clock
  /** Session timeout, context window and tokenizer; the documented defaults when absent. */
  conversations?: Config['conversations']
}

/** Request bodies above this size are refused with 413. */
export const BODY_LIMIT_BYTES = 64 * 1024

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  // Typed as Fastify's logger so the instance's type stays the default one plugins expect.
  const loggerInstance: FastifyBaseLogger = deps.logger
  const app = Fastify({
    loggerInstance,
    bodyLimit: BODY_LIMIT_BYTES,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  }).withTypeProvider<TypeBoxTypeProvider>()

  registerProblemHandlers(app)
  await app.register(swagger, {
    openapi: {
      info: { title: 'taskstream', version: '0.1.0', description: 'Tasks, events and reminders' },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearer: [] }],
    },
  })
  await app.register(swaggerUi, { routePrefix: '/docs' })

  app.decorateRequest('userId', '')
  app.addHook('onRequest', async (request) => {
    if (request.url.startsWith('/api/')) {
      request.userId = await deps.authenticate(request.headers.authorization)
    }
  })
  app.addHook('preValidation', rejectInvalidText)

  registerHealthRoutes(app, deps.database, deps.bus)
  // The adapter's own routes, if it receives by push (Dapr delivers to /events/<topic>).
  await mountEventRoutes(app, deps.bus)
  const tasks = new TaskService(deps.database.db, deps.now)
  await app.register(taskRoutes, { tasks })
  await app.register(auditRoutes, { db: deps.database.db })
  await app.register(notificationRoutes, { database: deps.database, logger: deps.logger })
  const settings = deps.conversations ?? loadConfig({}).conversations
  const tokenizer = await loadTokenizer(settings.tokenizerEncoding)
  const conversations = new ConversationService(deps.database.db, tokenizer, settings, deps.now)
  await app.register(conversationRoutes, { conversations })

  return app
}

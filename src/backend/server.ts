// Starts the backend on an open database and event bus: the HTTP API and the outbox relay.
// `stop` drains: no new requests, in-flight ones finish, the outbox is flushed if it can be.
import type { FastifyInstance } from 'fastify'

import type { EventBus } from '../events/event-bus.js'
import type { Config } from '../shared/config.js'
import type { DatabaseHandle } from '../shared/db/database.js'
import type { Logger } from '../shared/logger.js'
import { OutboxRelay } from '../shared/outbox/outbox-relay.js'
import { buildApp } from './app.js'
import { createAuthenticator, type AuthConfig } from './auth/authenticator.js'
import {
  DEFAULT_NOTIFICATIONS_GROUP,
  startNotificationConsumer,
} from './notifications/notification-consumer.js'
import {
  DEFAULT_TASK_COMMANDS_GROUP,
  startTaskCommandConsumer,
} from './tasks/task-command-consumer.js'
import type { Clock } from './tasks/task-service.js'

export interface BackendOptions {
  database: DatabaseHandle
  bus: EventBus
  logger: Logger
  auth: AuthConfig
  port: number
  host: string
  outboxSweepMs: number
  now?: Clock
  conversations?: Config['conversations']
  /** The consumer group that stores notifications; tests give their own. */
  notificationsGroup?: string
  /** The consumer group that creates tasks from task commands; tests give their own. */
  taskCommandsGroup?: string
}

export interface RunningBackend {
  app: FastifyInstance
  relay: OutboxRelay
  /** The address the API listens on, such as http://127.0.0.1:3000. */
  url: string
  stop(): Promise<void>
}

export async function startBackend(options: BackendOptions): Promise<RunningBackend> {
  const log = options.logger.child({ role: 'backend' })
  const app = await buildApp({
    database: options.database,
    bus: options.bus,
    authenticate: createAuthenticator(options.auth),
    logger: log,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.conversations === undefined ? {} : { conversations: options.conversations }),
  })
  const relay = new OutboxRelay({
    database: options.database,
    bus: options.bus,
    logger: log,
    sweepMs: options.outboxSweepMs,
  })
  await relay.start()
  const notifications = await startNotificationConsumer({
    bus: options.bus,
    database: options.database,
    logger: log,
    group: options.notificationsGroup ?? DEFAULT_NOTIFICATIONS_GROUP,
  })
  const taskCommands = await startTaskCommandConsumer({
    bus: options.bus,
    database: options.database,
    logger: log,
    group: options.taskCommandsGroup ?? DEFAULT_TASK_COMMANDS_GROUP,
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  await app.listen({ port: options.port, host: options.host })
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : options.port
  const url = `http://${options.host.includes(':') ? `[${options.host}]` : options.host}:${port}`
  log.info({ url }, 'backend listening')

  return {
    app,
    relay,
    url,
    async stop() {
      await app.close()
      await notifications.close()
      await taskCommands.close()
      await relay
        .flush(5_000)
        .catch((err: unknown) => log.warn({ err }, 'outbox not drained at stop; it is kept'))
      await relay.stop()
      log.info('backend stopped')
    },
  }
}

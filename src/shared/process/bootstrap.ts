// What every process does first: read the configuration, make the logger, open the database
// (migrated) and the event bus (topics created). A bad configuration exits with its reasons.
import { createEventBus } from '../../events/create-event-bus.js'
import type { EventBus } from '../../events/event-bus.js'
import { TOPICS } from '../../events/catalogue.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { openDatabase, type DatabaseHandle } from '../db/database.js'
import { createLogger, type Logger } from '../logger.js'

export interface Runtime {
  config: Readonly<Config>
  logger: Logger
  database: DatabaseHandle
  bus: EventBus
}

export function loadConfigOrExit(): Readonly<Config> {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      // The logger needs LOG_LEVEL, which may be the bad value: report on stderr directly.
      process.stderr.write(`taskstream: ${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}

/** Retries a start-up step while a dependency comes up (a broker starting beside us). */
export async function withStartupRetry<T>(log: Logger, what: string, step: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000
  let delayMs = 500
  for (;;) {
    try {
      return await step()
    } catch (err) {
      if (Date.now() + delayMs > deadline) {
        throw err
      }
      log.warn({ err, delayMs }, `${what} failed, retrying`)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      delayMs = Math.min(delayMs * 2, 5_000)
    }
  }
}

export async function openRuntime(config: Readonly<Config>, clientId: string): Promise<Runtime> {
  const logger = createLogger(config.logLevel)
  const database = await openDatabase({
    url: config.databaseUrl,
    pgliteDir: config.pgliteDir,
    logger,
  })
  await withStartupRetry(logger, 'database migration', () => database.migrate())
  const bus = createEventBus(
    {
      transport: config.eventTransport,
      kafkaBrokers: config.kafkaBrokers,
      topicPrefix: config.topicPrefix,
      clientId,
    },
    logger,
  )
  await withStartupRetry(logger, 'topic creation', () => bus.ensureTopics(Object.values(TOPICS)))
  logger.info({ database: database.kind, transport: bus.transport, clientId }, 'runtime ready')

  return { config, logger, database, bus }
}

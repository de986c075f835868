// What every process does first: read the configuration, make the logger, open the database
// (migrated) and the event bus (topics created). A bad configuration exits with its reasons.
import { createServer } from 'node:net'

import { createEventBus } from '../../events/create-event-bus.js'
import { readDaprSecrets } from '../../events/dapr/dapr-secrets.js'
import type { EventBus } from '../../events/event-bus.js'
import { TOPICS } from '../../events/catalogue.js'
import { ConfigError, loadConfig, type Config } from '../config.js'
import { isAppError, isRetryable } from '../errors.js'
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

/**
 * Retries a start-up step while a dependency comes up (a broker starting beside us). Gives up
 * at once on a failure no retry can mend, and after a minute on the others.
 */
export async function withStartupRetry<T>(
  log: Logger,
  what: string,
  step: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + 60_000
  let delayMs = 500
  for (;;) {
    try {
      return await step()
    } catch (err) {
      if (!isRetryable(err) || Date.now() + delayMs > deadline) {
        throw err
      }
      log.warn({ err, delayMs }, `${what} failed, retrying`)
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      delayMs = Math.min(delayMs * 2, 5_000)
    }
  }
}

/**
 * With the Dapr adapter, DATABASE_URL and JWT_SECRET may come from the secret store instead of
 * the environment; a value set in the environment wins. The values are checked as config.ts
 * checks them, and never logged.
 */
export async function withDaprSecrets(
  config: Readonly<Config>,
  logger: Logger,
): Promise<Readonly<Config>> {
  const wantDatabase = config.databaseUrl === undefined
  const wantJwt = config.jwt.secret === undefined && config.jwt.jwksUrl === undefined
  if (config.eventTransport !== 'dapr' || (!wantDatabase && !wantJwt)) {
    return config
  }

  const store = { httpPort: config.dapr.httpPort, storeName: config.dapr.secretStoreName, logger }
  const secrets = await withStartupRetry(logger, 'secret fetch', () =>
    readDaprSecrets(store, ['DATABASE_URL', 'JWT_SECRET']),
  )
  const databaseUrl = wantDatabase ? secrets.DATABASE_URL : config.databaseUrl
  const jwtSecret = wantJwt ? secrets.JWT_SECRET : config.jwt.secret
  const problems: string[] = []
  if (wantDatabase && databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push('DATABASE_URL from the dapr secret store must be a postgres: or postgresql: URL')
  }
  if (wantJwt && jwtSecret !== undefined && jwtSecret.length < 32) {
    problems.push('JWT_SECRET from the dapr secret store must be at least 32 characters')
  }
  if (problems.length > 0) {
    throw new ConfigError(problems)
  }

  logger.info({ keys: Object.keys(secrets), store: store.storeName }, 'secrets read from dapr')

  return Object.freeze({ ...config, databaseUrl, jwt: { ...config.jwt, secret: jwtSecret } })
}

/**
 * Opens the runtime, or exits 1 with one clear log line (and the cause under `err`) when a
 * dependency stays unreachable: a stack trace is no message for the person running this.
 */
export async function openRuntime(initial: Readonly<Config>, clientId: string): Promise<Runtime> {
  const logger = createLogger(initial.logLevel)
  try {
    return await openRuntimeSteps(initial, clientId, logger)
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`taskstream: ${err.message}\n`)
      process.exit(2)
    }
    const reason = isAppError(err) ? err.message : 'start-up failed'
    logger.fatal({ err }, `could not start: ${reason}`)
    process.exit(1)
  }
}

async function openRuntimeSteps(
  initial: Readonly<Config>,
  clientId: string,
  logger: Logger,
): Promise<Runtime> {
  const config = await withDaprSecrets(initial, logger)
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
      dapr: { httpPort: config.dapr.httpPort, pubsubName: config.dapr.pubsubName },
    },
    logger,
  )
  await withStartupRetry(logger, 'topic creation', () => bus.ensureTopics(Object.values(TOPICS)))
  logger.info({ database: database.kind, transport: bus.transport, clientId }, 'runtime ready')

  return { config, logger, database, bus }
}

/**
 * Exits with a clear message, before any database is opened, when the HTTP port is taken: a
 * second `npm start` must not share the first one's embedded database.
 */
export async function ensurePortFree(port: number, host: string): Promise<void> {
  if (port === 0) {
    return
  }

  const inUse = await new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'))
    server.listen(port, host, () => server.close(() => resolve(false)))
  })
  if (inUse) {
    process.stderr.write(`taskstream: port ${port} on ${host} is in use; set PORT to another\n`)
    process.exit(1)
  }
}

/** Runs a start-up step; on failure logs one fatal line naming it and exits 1. */
export async function startOrExit<T>(
  logger: Logger,
  what: string,
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step()
  } catch (err) {
    logger.fatal({ err }, `could not start ${what}`)
    process.exit(1)
  }
}

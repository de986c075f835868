// Opens the database the configuration names: PostgreSQL through pg, or an embedded PGlite
// when no DATABASE_URL is set. Both get the same migrations and the same kysely types.
import { mkdir } from 'node:fs/promises'

import { PGlite } from '@electric-sql/pglite'
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely'
import pg from 'pg'

import { AppError } from '../errors.js'
import type { Logger } from '../logger.js'
import { migrations } from './migrations/index.js'
import { PGlitePool } from './pglite-pool.js'
import type { Database } from './schema.js'

export type DatabaseKind = 'postgres' | 'pglite'

export interface DatabaseOptions {
  /** A PostgreSQL connection string; when absent, an embedded PGlite database is used. */
  url?: string | undefined
  /** PGlite data directory; `memory://` keeps everything in memory. */
  pgliteDir?: string | undefined
  /** A schema to work in (tests give each run its own); `public` when absent. */
  schema?: string | undefined
  /** Connections in the pool (PostgreSQL only). */
  poolSize?: number | undefined
  logger: Logger
}

export interface DatabaseHandle {
  readonly db: Kysely<Database>
  readonly kind: DatabaseKind
  /** Calls `onNotify` on every NOTIFY on `channel`, and once after a lost connection returns. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>
  ping(): Promise<void>
  migrate(): Promise<void>
  close(): Promise<void>
}

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url !== undefined) {
    return openPostgres(options.url, options)
  }

  return openPGlite(options)
}

function searchPathOption(schema: string | undefined): string | undefined {
  return schema === undefined ? undefined : `-c search_path=${schema}`
}

function openPostgres(url: string, options: DatabaseOptions): DatabaseHandle {
  const log = options.logger.child({ component: 'database' })
  const connection = { connectionString: url, options: searchPathOption(options.schema) }
  const pool = new pg.Pool({ ...connection, max: options.poolSize ?? 10 })
  pool.on('error', (err) => log.warn({ err }, 'idle database connection failed'))
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
  const listeners = new Set<pg.Client>()

  async function listen(channel: string, onNotify: () => void) {
    let client: pg.Client | undefined
    let closed = false
    let delayMs = 250

    const connect = async (): Promise<void> => {
      while (!closed) {
        const next = new pg.Client(connection)
        try {
          await next.connect()
          next.on('notification', onNotify)
          next.on('error', (err) => {
            log.warn({ err, channel }, 'listen connection lost')
            listeners.delete(next)
            void next.end().catch(() => undefined)
            void connect()
          })
          await next.query(`listen ${pg.escapeIdentifier(channel)}`)
          client = next
          listeners.add(next)
          delayMs = 250
          onNotify()

          return
        } catch (err) {
          log.warn({ err, channel, delayMs }, 'listen connection failed, retrying')
          await next.end().catch(() => undefined)
          await new Promise((resolve) => setTimeout(resolve, delayMs))
          delayMs = Math.min(delayMs * 2, 10_000)
        }
      }
    }

    await connect()

    return async () => {
      closed = true
      if (client !== undefined) {
        listeners.delete(client)
        await client.end().catch(() => undefined)
      }
    }
  }

  return {
    db,
    kind: 'postgres',
    listen,
    ping: () => ping(db),
    migrate: () => migrate(db, log, options.schema),
    async close() {
      await Promise.all([...listeners].map((client) => client.end().catch(() => undefined)))
      await db.destroy()
    },
  }
}

async function openPGlite(options: DatabaseOptions): Promise<DatabaseHandle> {
  const log = options.logger.child({ component: 'database' })
  const dataDir = options.pgliteDir ?? 'memory://'
  if (!dataDir.startsWith('memory://')) {
    await mkdir(dataDir, { recursive: true })
  }
  const lite = await PGlite.create(dataDir)
  if (options.schema !== undefined) {
    await lite.exec(
      `create schema if not exists "${options.schema}"; set search_path = "${options.schema}"`,
    )
  }
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new PGlitePool(lite) }) })
  log.info({ dataDir }, 'embedded database opened')

  return {
    db,
    kind: 'pglite',
    async listen(channel, onNotify) {
      const stop = await lite.listen(channel, onNotify)
      onNotify()

      return stop
    },
    ping: () => ping(db),
    migrate: () => migrate(db, log, options.schema),
    async close() {
      await db.destroy()
      await lite.close()
    },
  }
}

async function ping(db: Kysely<Database>): Promise<void> {
  try {
    await sql`select 1`.execute(db)
  } catch (err) {
    throw new AppError('DB_UNREACHABLE', 'database is unreachable', { cause: err, retryable: true })
  }
}

async function migrate(
  db: Kysely<Database>,
  log: Logger,
  schema: string | undefined,
): Promise<void> {
  // Name the schema: kysely otherwise finds another schema's migration tables and skips its own.
  const migrator = new Migrator({
    db,
    migrationTableSchema: schema ?? 'public',
    provider: { getMigrations: () => Promise.resolve(migrations) },
  })
  let outcome = await migrator.migrateToLatest()
  // kysely looks for its tables across every schema; a schema another session drops meanwhile
  // fails that scan (3F000, seen when parallel tests drop theirs). Nothing was migrated: again.
  for (let attempt = 1; attempt < 5 && schemaVanished(outcome.error); attempt++) {
    log.warn({ attempt }, 'a schema vanished during migration, retrying')
    outcome = await migrator.migrateToLatest()
  }
  const { error, results } = outcome
  for (const result of results ?? []) {
    log.info({ migration: result.migrationName, status: result.status }, 'migration')
  }
  if (error !== undefined) {
    const unreachable = isConnectionFailure(error)
    const message = unreachable ? 'database is unreachable' : 'database migration failed'
    throw new AppError(unreachable ? 'DB_UNREACHABLE' : 'DB_MIGRATION_FAILED', message, {
      cause: error,
      retryable: unreachable,
    })
  }
}

function schemaVanished(error: unknown): boolean {
  return (error as { code?: unknown } | undefined)?.code === '3F000'
}

// Socket errors, and PostgreSQL's connection-exception class (08) and start-up states (57P0x).
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EAI_AGAIN',
])

function isConnectionFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code !== 'string') {
    return error instanceof AggregateError && error.errors.some(isConnectionFailure)
  }

  return CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[1-3]$/.test(code)
}

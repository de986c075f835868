// A real PostgreSQL database for one test: a fresh schema on TEST_DATABASE_URL, migrated,
// dropped at teardown. Tests never share tables, so they can run in parallel.
import { randomBytes } from 'node:crypto'

import pg from 'pg'
import type { Test } from 'tap'

import { openDatabase, type DatabaseHandle } from '../../src/shared/db/database.js'
import { createLogger } from '../../src/shared/logger.js'

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

export const testLogger = createLogger((process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent')

export function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`
}

export async function createTestDatabase(t: Test): Promise<DatabaseHandle & { schema: string }> {
  const schema = randomName('t')
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
  await admin.connect()
  await admin.query(`create schema ${schema}`)
  await admin.end()

  const database = await openDatabase({
    url: TEST_DATABASE_URL,
    schema,
    logger: testLogger,
    poolSize: 5,
  })
  await database.migrate()
  t.teardown(async () => {
    await database.close()
    const cleanup = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await cleanup.connect()
    await cleanup.query(`drop schema ${schema} cascade`)
    await cleanup.end()
  })

  return Object.assign(database, { schema })
}

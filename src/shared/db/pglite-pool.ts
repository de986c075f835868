// Lets kysely's PostgresDialect drive an embedded PGlite database. PGlite has one
// connection, so the pool hands it out to one holder at a time, in arrival order.
import type { PGlite } from '@electric-sql/pglite'
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely'

type Command = PostgresQueryResult<unknown>['command']

const COMMANDS = new Set<string>([
  'UPDATE',
  'DELETE',
  'INSERT',
  'SELECT',
  'MERGE',
  'COMMIT',
  'ROLLBACK',
])

function commandOf(sql: string): Command {
  // Only the affected-row count of plain statements matters to kysely; a CTE reads as SELECT.
  const word = /^\s*(\w+)/.exec(sql)?.[1]?.toUpperCase() ?? 'SELECT'

  return (COMMANDS.has(word) ? word : 'SELECT') as Command
}

export class PGlitePool implements PostgresPool {
  readonly #db: PGlite
  #tail: Promise<void> = Promise.resolve()

  constructor(db: PGlite) {
    this.#db = db
  }

  async connect(): Promise<PostgresPoolClient> {
    let release!: () => void
    const turn = new Promise<void>((resolve) => {
      release = resolve
    })
    const previous = this.#tail
    this.#tail = previous.then(() => turn)
    await previous

    const db = this.#db
    const client = {
      async query<R>(sql: string, parameters: ReadonlyArray<unknown>) {
        const result = await db.query<R>(sql, [...parameters])

        return { command: commandOf(sql), rowCount: result.affectedRows ?? 0, rows: result.rows }
      },
      release() {
        release()
      },
    }

    return client as PostgresPoolClient
  }

  async end(): Promise<void> {
    await this.#tail
  }
}

// The backend application on a fresh PostgreSQL schema with a clock the test sets, called
// in-process (Fastify inject) as any user. Messages are placed at 10:00 and 10:30:01 by moving
// the clock, never by sleeping.
import { randomBytes } from 'node:crypto'

import type { Test } from 'tap'

import { buildApp } from '../../src/backend/app.js'
import { createAuthenticator } from '../../src/backend/auth/authenticator.js'
import { signDevToken } from '../../src/backend/auth/dev-token.js'
import { InProcessEventBus } from '../../src/events/in-process/in-process-event-bus.js'
import { loadConfig, type Config } from '../../src/shared/config.js'
import type { DatabaseHandle } from '../../src/shared/db/database.js'
import { createTestDatabase, testLogger } from './test-database.js'

export interface ConversationTestApp {
  database: DatabaseHandle
  /** Sets the clock the backend reads, as an ISO instant. */
  setTime(iso: string): void
  request(
    userId: string,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Record<string, unknown>; body: any }>
  /** Rows in the conversation tables, to prove a refused request stored nothing. */
  counts(): Promise<{ sessions: number; messages: number }>
}

export async function startConversationApp(
  t: Test,
  settings: Partial<Config['conversations']> = {},
): Promise<ConversationTestApp> {
  const database = await createTestDatabase(t)
  const bus = new InProcessEventBus({ logger: testLogger })
  t.teardown(() => bus.close())
  let current = new Date('2026-03-02T10:00:00.000Z')
  const secret = randomBytes(32).toString('hex')
  const app = await buildApp({
    database,
    bus,
    authenticate: createAuthenticator({ secret, jwksUrl: undefined, issuer: undefined }),
    logger: testLogger,
    now: () => current,
    conversations: { ...loadConfig({}).conversations, ...settings },
  })
  t.teardown(() => app.close())

  const tokens = new Map<string, string>()
  const request: ConversationTestApp['request'] = async (userId, method, path, body) => {
    const token = tokens.get(userId) ?? (await signDevToken(secret, userId))
    tokens.set(userId, token)
    const response = await app.inject({
      method,
      url: path,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined
        ? {}
        : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
    })

    return {
      status: response.statusCode,
      headers: response.headers,
      body: response.body === '' ? undefined : response.json(),
    }
  }

  const count = async (table: 'conversation_sessions' | 'conversation_messages') => {
    const row = await database.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()

    return Number(row.n)
  }

  return {
    database,
    setTime(iso) {
      current = new Date(iso)
    },
    request,
    counts: async () => ({
      sessions: await count('conversation_sessions'),
      messages: await count('conversation_messages'),
    }),
  }
}

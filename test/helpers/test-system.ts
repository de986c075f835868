// The backend and worker roles, started for one test on a real database and the chosen bus,
// with a token per user. Everything it starts stops at teardown.
import { randomBytes } from 'node:crypto'

import type { Test } from 'tap'

import { signDevToken } from '../../src/backend/auth/dev-token.js'
import { startBackend, type RunningBackend } from '../../src/backend/server.js'
import type { Clock } from '../../src/backend/tasks/task-service.js'
import { InProcessEventBus } from '../../src/events/in-process/in-process-event-bus.js'
import type { EventBus } from '../../src/events/event-bus.js'
import { TOPICS } from '../../src/events/catalogue.js'
import { loadConfig } from '../../src/shared/config.js'
import type { DatabaseHandle } from '../../src/shared/db/database.js'
import { ROLES } from '../../src/workers/roles.js'
import type { RoleName, RunningRole } from '../../src/workers/worker-role.js'
import { createTestDatabase, randomName, testLogger } from './test-database.js'

export interface TestSystem {
  database: DatabaseHandle
  bus: EventBus
  backend: RunningBackend
  url: string
  tokenFor(userId: string): Promise<string>
  /** Calls the API as a user; JSON bodies are sent as JSON, strings as they are. */
  request(
    userId: string | null,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; body: any }>
  startRole(role: RoleName): Promise<RunningRole>
}

export interface TestSystemOptions {
  bus?: EventBus
  database?: DatabaseHandle
  roles?: RoleName[]
  /** The backend's clock (when tasks are created and completed); the system clock if not given. */
  now?: Clock
}

export async function startTestSystem(
  t: Test,
  options: TestSystemOptions = {},
): Promise<TestSystem> {
  const database = options.database ?? (await createTestDatabase(t))
  const bus = options.bus ?? new InProcessEventBus({ logger: testLogger })
  if (options.bus === undefined) {
    await bus.ensureTopics(Object.values(TOPICS))
    t.teardown(() => bus.close())
  }

  const secret = randomBytes(32).toString('hex')
  const backend = await startBackend({
    database,
    bus,
    logger: testLogger,
    auth: { secret, jwksUrl: undefined, issuer: undefined },
    port: 0,
    host: '127.0.0.1',
    outboxSweepMs: 1_000,
    notificationsGroup: randomName('g-notifications'),
    taskCommandsGroup: randomName('g-task-commands'),
    ...(options.now === undefined ? {} : { now: options.now }),
  })
  t.teardown(() => backend.stop())

  const group = randomName('g')
  const config = loadConfig({})
  const startRole = async (role: RoleName) => {
    const start = ROLES[role]
    if (start === undefined) {
      throw new Error(`role ${role} is not registered`)
    }
    const running = await start({
      config,
      database,
      bus,
      logger: testLogger,
      group: `${group}-${role}`,
    })
    t.teardown(() => running.stop())

    return running
  }
  for (const role of options.roles ?? []) {
    await startRole(role)
  }

  const tokens = new Map<string, string>()
  const tokenFor = async (userId: string) => {
    const token = tokens.get(userId) ?? (await signDevToken(secret, userId))
    tokens.set(userId, token)

    return token
  }

  const request: TestSystem['request'] = async (userId, method, path, body, headers = {}) => {
    const auth: Record<string, string> =
      userId === null ? {} : { authorization: `Bearer ${await tokenFor(userId)}` }
    const init: RequestInit = { method, headers: { ...auth, ...headers } }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      init.headers = { 'content-type': 'application/json', ...auth, ...headers }
    }
    const response = await fetch(`${backend.url}${path}`, init)
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text === '' ? undefined : JSON.parse(text)
    } catch {
      // Not JSON: keep the text.
    }

    return { status: response.status, headers: response.headers, body: parsed }
  }

  return { database, bus, backend, url: backend.url, tokenFor, request, startRole }
}

/** Polls until `check` returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) {
      return value
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

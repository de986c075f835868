// `npm start`: the whole system in one process. With nothing configured it runs on an
// embedded PostgreSQL (PGlite, under .data/) and the in-process event bus; DATABASE_URL and
// KAFKA_BROKERS switch either to the real thing. Prints the URL and a development token.
import { randomBytes } from 'node:crypto'

import { signDevToken } from './backend/auth/dev-token.js'
import { startBackend } from './backend/server.js'
import {
  ensurePortFree,
  loadConfigOrExit,
  openRuntime,
  startOrExit,
} from './shared/process/bootstrap.js'
import { onShutdown } from './shared/process/shutdown.js'
import { ROLES } from './workers/roles.js'
import { defaultGroup, ROLE_NAMES, type RunningRole } from './workers/worker-role.js'

const config = loadConfigOrExit()
await ensurePortFree(config.port, config.host)
const runtime = await openRuntime(config, 'taskstream-embedded')

// Without a configured secret, sign with one made for this run: tokens last until restart.
const ephemeralSecret = config.jwt.jwksUrl === undefined && config.jwt.secret === undefined
const auth = ephemeralSecret
  ? { ...config.jwt, secret: randomBytes(32).toString('hex') }
  : config.jwt

const roles: RunningRole[] = []
for (const name of ROLE_NAMES) {
  const start = ROLES[name]
  if (start !== undefined) {
    const logger = runtime.logger.child({ role: name })
    const role = () => start({ ...runtime, logger, group: defaultGroup(name) })
    roles.push(await startOrExit(logger, `the ${name} role`, role))
  }
}

const backend = await startOrExit(runtime.logger, 'the backend', () =>
  startBackend({
    database: runtime.database,
    bus: runtime.bus,
    logger: runtime.logger,
    auth,
    port: config.port,
    host: config.host,
    outboxSweepMs: config.outboxSweepMs,
    conversations: config.conversations,
  }),
)

const lines = [`taskstream is running at ${backend.url} (API docs at ${backend.url}/docs)`]
if (auth.secret !== undefined) {
  const token = await signDevToken(auth.secret, 'dev-user')
  lines.push(
    ephemeralSecret
      ? 'development token for user "dev-user" (valid until this process stops):'
      : 'development token for user "dev-user":',
    `export TOKEN=${token}`,
  )
}
process.stdout.write(`\n${lines.join('\n')}\n\n`)

onShutdown(runtime.logger, async () => {
  await backend.stop()
  for (const role of roles) {
    await role.stop()
  }
  await runtime.bus.close()
  await runtime.database.close()
})

// The backend process: `node dist/backend/main.js` (or `npm run backend` in development).
import {
  ensurePortFree,
  loadConfigOrExit,
  openRuntime,
  startOrExit,
} from '../shared/process/bootstrap.js'
import { onShutdown } from '../shared/process/shutdown.js'
import { startBackend } from './server.js'

// With the Dapr adapter, JWT_SECRET may come from the secret store: check it once it is read.
const initial = loadConfigOrExit()
await ensurePortFree(initial.port, initial.host)
const runtime = await openRuntime(initial, 'taskstream-backend')
const config = runtime.config
if (config.jwt.secret === undefined && config.jwt.jwksUrl === undefined) {
  process.stderr.write('taskstream: invalid configuration: set JWT_SECRET or JWT_JWKS_URL\n')
  process.exit(2)
}

const backend = await startOrExit(runtime.logger, 'the backend', () =>
  startBackend({
    database: runtime.database,
    bus: runtime.bus,
    logger: runtime.logger,
    auth: config.jwt,
    port: config.port,
    host: config.host,
    outboxSweepMs: config.outboxSweepMs,
    conversations: config.conversations,
  }),
)

onShutdown(runtime.logger, async () => {
  await backend.stop()
  await runtime.bus.close()
  await runtime.database.close()
})

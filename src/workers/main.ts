// The worker process: `node dist/workers/main.js <reminder|recurrence|audit>`, or
// `npm run worker:<role>` in development. One role per process, its own consumer group.
import {
  ensurePortFree,
  loadConfigOrExit,
  openRuntime,
  startOrExit,
} from '../shared/process/bootstrap.js'
import { onShutdown } from '../shared/process/shutdown.js'
import { startHealthServer } from './health-server.js'
import { ROLES } from './roles.js'
import { defaultGroup, isRoleName, ROLE_NAMES } from './worker-role.js'

const roleName = process.argv[2]
if (!isRoleName(roleName)) {
  process.stderr.write(`usage: workers/main <${ROLE_NAMES.join('|')}>; got "${roleName ?? ''}"\n`)
  process.exit(2)
}

const start = ROLES[roleName]
if (start === undefined) {
  process.stderr.write(`taskstream: the ${roleName} role is not built yet\n`)
  process.exit(2)
}

const config = loadConfigOrExit()
await ensurePortFree(config.port, config.host)
const runtime = await openRuntime(config, defaultGroup(roleName))
const logger = runtime.logger.child({ role: roleName })
const role = await startOrExit(logger, `the ${roleName} role`, () =>
  start({
    config,
    database: runtime.database,
    bus: runtime.bus,
    logger,
    group: defaultGroup(roleName),
  }),
)
const health = await startOrExit(logger, 'the health server', () =>
  startHealthServer({ ...runtime, logger, port: config.port, host: config.host }),
)

onShutdown(logger, async () => {
  await role.stop()
  await health.close()
  await runtime.bus.close()
  await runtime.database.close()
})

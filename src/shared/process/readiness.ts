// Readiness of a process: its database and its broker answer. Each check gets a short time
// limit, so a probe sees "unreachable" in time instead of timing out itself.
import type { EventBus } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../db/database.js'
import { problem, type Problem } from '../http/problem-details.js'

/** Probes in the manifests wait 2 s; answer well within that. */
const CHECK_TIMEOUT_MS = 1_500

type CheckResult = 'ok' | 'unreachable'

async function check(probe: () => Promise<void>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve('unreachable'), CHECK_TIMEOUT_MS)
  })
  const attempt = probe().then(
    (): CheckResult => 'ok',
    (): CheckResult => 'unreachable',
  )
  const result = await Promise.race([attempt, timeout])
  clearTimeout(timer)

  return result
}

export type Readiness =
  | { ready: true; body: { status: 'ok'; database: 'ok'; broker: 'ok'; transport: string } }
  | { ready: false; body: Problem }

export async function checkReadiness(database: DatabaseHandle, bus: EventBus): Promise<Readiness> {
  const [db, broker] = await Promise.all([check(() => database.ping()), check(() => bus.ping())])
  if (db === 'ok' && broker === 'ok') {
    return { ready: true, body: { status: 'ok', database: db, broker, transport: bus.transport } }
  }

  const detail = `database: ${db}, broker: ${broker}`

  return { ready: false, body: problem(503, 'API_NOT_READY', detail, { database: db, broker }) }
}

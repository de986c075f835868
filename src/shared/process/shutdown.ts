// Runs the stop steps once on SIGTERM or SIGINT, then exits 0 (or 1 if a step failed).
import type { Logger } from '../logger.js'

export function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false
  const handle = (signal: NodeJS.Signals) => {
    if (stopping) {
      return
    }

    stopping = true
    log.info({ signal }, 'shutting down')
    stop().then(
      () => {
        log.info('stopped')
        process.exit(0)
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', handle)
  process.once('SIGINT', handle)
}

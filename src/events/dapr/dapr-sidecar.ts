// The local Dapr sidecar: where it listens, an @dapr/dapr client that logs through pino, and a
// plain HTTP call for the few APIs where the SDK hides what we need (see docs/dapr.md).
import { CommunicationProtocolEnum, DaprClient, LogLevel } from '@dapr/dapr'

import type { Logger } from '../../shared/logger.js'

/** Where the sidecar listens. */
export interface SidecarAddress {
  /** The sidecar's HTTP port (DAPR_HTTP_PORT). */
  httpPort: number
  /** Always the pod's own sidecar; tests point it at a fake on another port. Default 127.0.0.1. */
  host?: string
}

export interface DaprSidecarOptions extends SidecarAddress {
  logger: Logger
}

/** The sidecar's HTTP API root, such as http://127.0.0.1:3500/v1.0. */
export function sidecarApiUrl(options: SidecarAddress): string {
  return `http://${options.host ?? '127.0.0.1'}:${options.httpPort}/v1.0`
}

/** Formats the SDK's variadic log calls as one message; its messages never carry secrets. */
function sdkMessage(message: unknown, rest: unknown[]): string {
  return [message, ...rest].map(String).join(' ')
}

/**
 * An SDK client on the sidecar's HTTP API. Its logs go to pino (never the console) at warn and
 * above: at debug it prints request headers, which may hold the API token.
 */
export function createDaprClient(options: DaprSidecarOptions): DaprClient {
  const log = options.logger.child({ component: 'dapr-sdk' })

  return new DaprClient({
    daprHost: options.host ?? '127.0.0.1',
    daprPort: String(options.httpPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    logger: {
      level: LogLevel.Warn,
      service: {
        error: (message: unknown, ...rest: unknown[]) => log.error(sdkMessage(message, rest)),
        warn: (message: unknown, ...rest: unknown[]) => log.warn(sdkMessage(message, rest)),
        info: (message: unknown, ...rest: unknown[]) => log.info(sdkMessage(message, rest)),
        verbose: (message: unknown, ...rest: unknown[]) => log.debug(sdkMessage(message, rest)),
        debug: (message: unknown, ...rest: unknown[]) => log.debug(sdkMessage(message, rest)),
      },
    },
  })
}

/** Bounds every plain call to the sidecar: it is on localhost, a slow answer means trouble. */
export const SIDECAR_TIMEOUT_MS = 10_000

/** A plain request to the sidecar's API; `path` starts after /v1.0. */
export function callSidecar(
  options: SidecarAddress,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(`${sidecarApiUrl(options)}${path}`, {
    ...init,
    signal: AbortSignal.timeout(SIDECAR_TIMEOUT_MS),
  })
}

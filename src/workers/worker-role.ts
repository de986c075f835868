// The shape every worker role has, so one entry point (and the embedded mode) can run any.
import type { EventBus } from '../events/event-bus.js'
import type { Config } from '../shared/config.js'
import type { DatabaseHandle } from '../shared/db/database.js'
import type { Logger } from '../shared/logger.js'

export const ROLE_NAMES = ['reminder', 'recurrence', 'audit'] as const
export type RoleName = (typeof ROLE_NAMES)[number]

export interface RoleContext {
  config: Readonly<Config>
  database: DatabaseHandle
  bus: EventBus
  /** Already carries `role`. */
  logger: Logger
  /** The consumer group; `taskstream-<role>` unless a test gives its own. */
  group: string
}

export interface RunningRole {
  /** Stops taking events, finishes the batch in hand and commits it. */
  stop(): Promise<void>
}

export type StartRole = (context: RoleContext) => Promise<RunningRole>

export function isRoleName(value: string | undefined): value is RoleName {
  return (ROLE_NAMES as readonly (string | undefined)[]).includes(value)
}

export function defaultGroup(role: RoleName): string {
  return `taskstream-${role}`
}

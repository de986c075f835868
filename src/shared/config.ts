// Reads and validates the environment once, at start-up, into a frozen typed object. Nothing
// else in src/ reads process.env. A bad value stops the process with a message naming it.
import type { LevelWithSilent } from 'pino'

import type { EventTransport } from '../events/create-event-bus.js'
import {
  DEFAULT_TOKENIZER_ENCODING,
  TOKENIZER_ENCODINGS,
  type TokenizerEncoding,
} from './tokens/tokenizer.js'

export interface Config {
  /** HTTP port: the API for the backend, health (and Dapr routes) for a worker. */
  port: number
  host: string
  /** PostgreSQL connection string; absent means an embedded PGlite database. */
  databaseUrl: string | undefined
  /** PGlite data directory for the embedded database; `memory://` keeps nothing. */
  pgliteDir: string
  eventTransport: EventTransport
  kafkaBrokers: readonly string[]
  /** Prefix for every topic name, to share one cluster between environments. */
  topicPrefix: string
  jwt: { secret: string | undefined; jwksUrl: string | undefined; issuer: string | undefined }
  logLevel: LevelWithSilent
  dapr: { httpPort: number; pubsubName: string; stateStoreName: string; secretStoreName: string }
  /** How long the relay waits between outbox sweeps when no NOTIFY arrives. */
  outboxSweepMs: number
  /** How often the reminder role sweeps for due reminders, as a safety net under its timer. */
  reminderSweepMs: number
  /** The chat assistant's memory: docs/conversations.md. */
  conversations: {
    /** A message more than this many minutes after the last activity starts a new session. */
    sessionTimeoutMinutes: number
    /** Most messages in the assistant's context window (20). */
    contextMaxMessages: number
    /** Token budget of the context window, system message and framing included (4,000). */
    contextMaxTokens: number
    /** BPE encoding that counts tokens (o200k_base). */
    tokenizerEncoding: TokenizerEncoding
  }
}

export class ConfigError extends Error {
  readonly problems: string[]

  constructor(problems: string[]) {
    super(`invalid configuration: ${problems.join('; ')}`)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

type Env = Record<string, string | undefined>

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
const TRANSPORTS = ['kafka', 'in-process', 'dapr'] as const

class Reader {
  readonly problems: string[] = []
  readonly #env: Env

  constructor(env: Env) {
    this.#env = env
  }

  string(name: string): string | undefined {
    const value = this.#env[name]?.trim()

    return value === undefined || value === '' ? undefined : value
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const raw = this.string(name)
    if (raw === undefined) {
      return fallback
    }

    const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`)

      return fallback
    }

    return value
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const raw = this.string(name)
    if (raw === undefined) {
      return fallback
    }
    if (!(allowed as readonly string[]).includes(raw)) {
      this.problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`)

      return fallback
    }

    return raw as T
  }

  url(name: string, protocols: readonly string[]): string | undefined {
    const raw = this.string(name)
    if (raw === undefined) {
      return undefined
    }

    try {
      const parsed = new URL(raw)
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name} must be a ${protocols.join(' or ')} URL`)
      }
    } catch {
      // The value may hold a password: name the variable, never echo it.
      this.problems.push(`${name} is not a valid URL`)
    }

    return raw
  }
}

function readBrokers(read: Reader): string[] {
  const raw = read.string('KAFKA_BROKERS')
  if (raw === undefined) {
    return []
  }

  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b !== '')
  for (const broker of brokers) {
    if (!/^[\w.-]+:\d{1,5}$/.test(broker)) {
      read.problems.push(
        `KAFKA_BROKERS must be a comma-separated list of host:port, got "${broker}"`,
      )
    }
  }

  return brokers
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const read = new Reader(env)
  const kafkaBrokers = readBrokers(read)
  const eventTransport = read.oneOf(
    'EVENT_TRANSPORT',
    TRANSPORTS,
    kafkaBrokers.length > 0 ? 'kafka' : 'in-process',
  )
  if (eventTransport === 'kafka' && kafkaBrokers.length === 0) {
    read.problems.push('EVENT_TRANSPORT=kafka needs KAFKA_BROKERS (host:port, comma-separated)')
  }

  const jwtSecret = read.string('JWT_SECRET')
  const jwksUrl = read.url('JWT_JWKS_URL', ['https:', 'http:'])
  if (jwtSecret !== undefined && jwtSecret.length < 32) {
    read.problems.push('JWT_SECRET must be at least 32 characters')
  }
  if (jwtSecret !== undefined && jwksUrl !== undefined) {
    read.problems.push('set JWT_SECRET or JWT_JWKS_URL, not both')
  }

  const config: Config = {
    port: read.int('PORT', 3000, 0, 65_535),
    host: read.string('HOST') ?? '127.0.0.1',
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    pgliteDir: read.string('PGLITE_DIR') ?? '.data/pglite',
    eventTransport,
    kafkaBrokers,
    topicPrefix: read.string('KAFKA_TOPIC_PREFIX') ?? '',
    jwt: { secret: jwtSecret, jwksUrl, issuer: read.string('JWT_ISSUER') },
    logLevel: read.oneOf('LOG_LEVEL', LEVELS, 'info'),
    dapr: {
      httpPort: read.int('DAPR_HTTP_PORT', 3500, 1, 65_535),
      pubsubName: read.string('DAPR_PUBSUB_NAME') ?? 'taskevents',
      stateStoreName: read.string('DAPR_STATESTORE_NAME') ?? 'statestore',
      secretStoreName: read.string('DAPR_SECRETSTORE_NAME') ?? 'todo-secrets',
    },
    outboxSweepMs: read.int('OUTBOX_SWEEP_MS', 5_000, 100, 600_000),
    reminderSweepMs: read.int('REMINDER_SWEEP_MS', 5_000, 100, 600_000),
    conversations: {
      sessionTimeoutMinutes: read.int('CONVERSATION_SESSION_TIMEOUT_MINUTES', 30, 1, 10_080),
      contextMaxMessages: read.int('CONTEXT_MAX_MESSAGES', 20, 1, 500),
      contextMaxTokens: read.int('CONTEXT_MAX_TOKENS', 4_000, 100, 2_000_000),
      tokenizerEncoding: read.oneOf(
        'TOKENIZER_ENCODING',
        TOKENIZER_ENCODINGS,
        DEFAULT_TOKENIZER_ENCODING,
      ),
    },
  }
  if (read.problems.length > 0) {
    throw new ConfigError(read.problems)
  }

  return Object.freeze(config)
}

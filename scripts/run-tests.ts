// Runs the tap suite against real PostgreSQL and Kafka, starting whichever is not already up.
// Usage: npm test [-- <tap args>]   (env: DATABASE_URL_TEST, KAFKA_BROKERS to reuse running services)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { delimiter, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { pathToFileURL } from 'node:url'
import pg from 'pg'
import {
  kafkaDown,
  kafkaStatus,
  kafkaUp,
  resolveKafkaLocalOptions,
  type KafkaLocalOptions,
} from './kafka-local.js'

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test'
const POSTGRES_START_TIMEOUT_MS = 30_000
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 }

export interface TestKafka {
  brokers: string
  /** Stops what this run started; a no-op for a broker someone else runs. */
  stop: () => Promise<void>
}

const log = (line: string) => console.error(`[run-tests] ${line}`)
let interrupted: NodeJS.Signals | undefined

async function main(tapArgs: string[]): Promise<number> {
  const aborter = new AbortController()
  let tap: ChildProcess | undefined
  // Forward the first signal and let the steps below unwind, stopping the broker on the way out.
  // npm and tsx relay a Ctrl-C that already reached us, so later signals are echoes: ignore them.
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted !== undefined) {
      return
    }
    interrupted = signal
    log(`${signal} received; stopping`)
    aborter.abort()
    tap?.kill(signal)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)

  const databaseUrl = process.env.DATABASE_URL_TEST ?? DEFAULT_DATABASE_URL
  await ensurePostgres(databaseUrl)
  const kafka = await provideKafka(aborter.signal)
  try {
    const env = { ...process.env, KAFKA_BROKERS: kafka.brokers, TEST_DATABASE_URL: databaseUrl }
    tap = spawn('npx', ['tap', ...tapArgs], { env, stdio: ['inherit', 'pipe', 'inherit'] })
    const summary = relayAndCount(tap)
    const code = await exitCodeOf(tap)
    // tap's own summary is a comment; this plain line is the one CI tools count.
    const { pass, fail, skip } = summary()
    console.log(`\ntests: ${pass} passed, ${fail} failed${skip > 0 ? `, ${skip} skipped` : ''}`)

    return interrupted === undefined ? code : (SIGNAL_EXIT_CODES[interrupted] ?? code)
  } finally {
    await kafka.stop()
  }
}

export async function ensurePostgres(url: string): Promise<void> {
  const where = describeDatabase(url)
  if (await postgresAnswers(url)) {
    return
  }

  const version = localClusterVersion()
  if (version === undefined || !isLocalHost(url)) {
    throw new Error(
      `run-tests: postgresql does not answer at ${where}; start it or set DATABASE_URL_TEST`,
    )
  }

  log(`postgresql does not answer at ${where}; starting cluster ${version}/main`)
  const args = ['--skip-systemctl-redirect', version, 'main', 'start']
  spawnSync('pg_ctlcluster', args, { stdio: ['ignore', 'inherit', 'inherit'] })
  const deadline = Date.now() + POSTGRES_START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (await postgresAnswers(url)) {
      return
    }
    await sleep(500)
  }

  throw new Error(`run-tests: postgresql still does not answer at ${where} after starting it`)
}

async function postgresAnswers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query('select 1')

    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

// Only a Debian-style machine can start its own cluster; elsewhere the user must start one.
function localClusterVersion(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    return dir !== '' && existsSync(join(dir, 'pg_ctlcluster'))
  })
  if (!onPath || !existsSync('/etc/postgresql')) {
    return undefined
  }

  const versions = readdirSync('/etc/postgresql').filter((name) => /^\d+(\.\d+)?$/.test(name))

  return versions.sort((a, b) => Number(b) - Number(a))[0]
}

function isLocalHost(url: string): boolean {
  const host = new URL(url).hostname

  return ['', 'localhost', '127.0.0.1', '[::1]'].includes(host)
}

// Never print a password: host, port and database are enough to find the problem.
function describeDatabase(url: string): string {
  const parsed = new URL(url)

  return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}${parsed.pathname}`
}

export async function provideKafka(signal: AbortSignal): Promise<TestKafka> {
  const given = process.env.KAFKA_BROKERS
  if (given !== undefined && given !== '') {
    log(`using KAFKA_BROKERS=${given}`)

    return { brokers: given, stop: () => Promise.resolve() }
  }

  if (await dockerEngineAnswers()) {
    const redpanda = await startRedpanda()
    if (redpanda !== undefined) {
      return redpanda
    }
  }

  const options = await resolveTestBrokerOptions(signal)
  const { brokers, started } = await kafkaUp(options)
  if (!started) {
    log(`reusing the broker already running at ${brokers}; it stays up afterwards`)

    return { brokers, stop: () => Promise.resolve() }
  }

  return { brokers, stop: () => kafkaDown({ ...options, signal: undefined }) }
}

// Where a Docker engine answers, Redpanda in a container (testcontainers) is the broker. None of
// our machines has an engine, so this path is not exercised here; if the container cannot be
// started, the local broker serves instead.
const REDPANDA_IMAGE =
  process.env.REDPANDA_IMAGE ?? 'docker.redpanda.com/redpandadata/redpanda:v24.3.6'

async function startRedpanda(): Promise<TestKafka | undefined> {
  try {
    const { RedpandaContainer } = await import('@testcontainers/redpanda')
    log(`a docker engine answers: starting ${REDPANDA_IMAGE}`)
    const container = await new RedpandaContainer(REDPANDA_IMAGE).start()

    return {
      brokers: container.getBootstrapServers().replace(/^PLAINTEXT:\/\//, ''),
      stop: async () => {
        await container.stop()
      },
    }
  } catch (error) {
    log(`redpanda container did not start (${String(error)}); using the local broker`)

    return undefined
  }
}

// The tests only need a broker, not port 9092: when something else holds it (a developer's
// `services:up` in another checkout), run ours on free ports instead of failing.
async function resolveTestBrokerOptions(signal: AbortSignal): Promise<KafkaLocalOptions> {
  const options = resolveKafkaLocalOptions(process.env, { signal })
  const ours = await kafkaStatus({ ...options, log: () => {} })
  if (
    ours !== undefined ||
    process.env.KAFKA_PORT !== undefined ||
    (await portIsFree(options.port))
  ) {
    return options
  }

  const port = await freePort()
  log(`port ${options.port} is taken; the test broker uses ${port}`)

  return resolveKafkaLocalOptions(process.env, { signal, port, controllerPort: await freePort() })
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const server = createServer()
    server.once('error', () => resolvePort(false))
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)))
  })
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        resolvePort(typeof address === 'object' && address !== null ? address.port : 0),
      )
    })
  })
}

function dockerEngineAnswers(): Promise<boolean> {
  const host = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock'
  if (!host.startsWith('unix://') || !existsSync(host.slice('unix://'.length))) {
    return Promise.resolve(false)
  }

  return new Promise((resolveAnswer) => {
    const socket = connect({ path: host.slice('unix://'.length), timeout: 1_000 })
    const finish = (answers: boolean) => {
      socket.destroy()
      resolveAnswer(answers)
    }
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
    socket.once('timeout', () => finish(false))
  })
}

/** Passes tap's output through and reads its closing `# { total: …, pass: … }` line. */
function relayAndCount(child: ChildProcess): () => { pass: number; fail: number; skip: number } {
  let tail = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    tail = (tail + chunk.toString()).slice(-4_000)
  })

  return () => {
    const line = /# \{ total: (\d+)[^}]*\}/.exec(tail)?.[0] ?? ''
    const count = (name: string) => Number(new RegExp(`${name}: (\\d+)`).exec(line)?.[1] ?? 0)
    const total = count('total')
    const pass = count('pass')

    return {
      pass,
      fail: Math.max(count('fail'), total - pass - count('skip') - count('todo')),
      skip: count('skip'),
    }
  }
}

function exitCodeOf(child: ChildProcess): Promise<number> {
  return new Promise((resolveCode) => {
    child.once('error', (error) => {
      log(`could not run tap: ${error.message}`)
      resolveCode(1)
    })
    child.once('exit', (code, signal) => {
      resolveCode(code ?? (signal === null ? 1 : (SIGNAL_EXIT_CODES[signal] ?? 1)))
    })
  })
}

// Run only as a script: scripts/bench.ts imports the service helpers above.
if (import.meta.url === pathToFileURL(resolve(process.argv[1] ?? '')).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = interrupted === undefined ? 1 : (SIGNAL_EXIT_CODES[interrupted] ?? 1)
    },
  )
}

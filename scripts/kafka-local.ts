// Runs a single-node Apache Kafka broker (KRaft) from Maven Central jars, for development and tests.
// Usage: tsx scripts/kafka-local.ts up|down|status   (env: KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_VERSION)
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { Kafka, logLevel } from 'kafkajs'

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../..')
const DEFAULT_VERSION = '4.1.2'
// Kafka 4.x publishes no SLF4J binding in its POM (the tarball adds it), so we name it here.
const LOG4J_VERSION = '2.24.3'
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1'
const DATA_DIR_PREFIX = 'taskstream-kafka-'
const READY_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 20_000
const JVM_FLAGS = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseG1GC',
  '-XX:MaxGCPauseMillis=20',
  '-XX:InitiatingHeapOccupancyPercent=35',
  '-XX:+ExplicitGCInvokesConcurrent',
  '-Djava.awt.headless=true',
]

export interface KafkaLocalOptions {
  /** Kafka release fetched from Maven Central; default 4.1.2. */
  version: string
  /** PLAINTEXT listener port on 127.0.0.1; default 9092. */
  port: number
  /** KRaft controller listener port on 127.0.0.1; default port + 1. */
  controllerPort: number
  /** Jars live in <cacheRoot>/<version>; default <repo>/.cache/kafka. */
  cacheRoot: string
  /** Pid, config and logs of this broker; default <cacheRoot>/run. A second broker needs its own. */
  runDir: string
  /** Keep the log dirs here (kept across restarts); default a fresh temp dir per `up`. */
  dataDir?: string | undefined
  /** Receives progress lines; stdout is kept for the KAFKA_BROKERS line. */
  log: (line: string) => void
  /** Aborting stops a start in progress and the broker it may have spawned. */
  signal?: AbortSignal | undefined
}

export interface KafkaUpResult {
  /** Bootstrap list for kafkajs, such as 127.0.0.1:9092. */
  brokers: string
  /** False when a broker from an earlier `up` was already answering. */
  started: boolean
}

interface RunState {
  pid: number
  port: number
  controllerPort: number
  version: string
  dataDir: string
}

export function resolveKafkaLocalOptions(
  env: NodeJS.ProcessEnv,
  overrides: Partial<KafkaLocalOptions> = {},
): KafkaLocalOptions {
  const port = parsePort(env.KAFKA_PORT, 9092, 'KAFKA_PORT')
  const controllerPort = parsePort(env.KAFKA_CONTROLLER_PORT, port + 1, 'KAFKA_CONTROLLER_PORT')
  if (controllerPort === port) {
    throw new Error(`kafka-local: controller port must differ from broker port ${port}`)
  }

  const cacheRoot = overrides.cacheRoot ?? join(REPO_ROOT, '.cache', 'kafka')

  return {
    version: env.KAFKA_VERSION ?? DEFAULT_VERSION,
    port,
    controllerPort,
    cacheRoot,
    runDir: join(cacheRoot, 'run'),
    log: (line) => console.error(`[kafka-local] ${line}`),
    ...overrides,
  }
}

/** Starts the broker unless one from an earlier `up` already answers; resolves once it serves. */
export async function kafkaUp(options: KafkaLocalOptions): Promise<KafkaUpResult> {
  const runDir = options.runDir
  const existing = await readState(runDir)
  if (existing !== undefined) {
    const brokers = await adoptExisting(existing, options)
    if (brokers !== undefined) {
      return { brokers, started: false }
    }
  }

  await assertPortsFree(options)
  const libs = await ensureJars(options)
  await mkdir(runDir, { recursive: true })
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), DATA_DIR_PREFIX)))
  await mkdir(dataDir, { recursive: true })
  const files = await prepareRun(libs, runDir, dataDir, options)

  const started = Date.now()
  const child = startBroker(libs, files, runDir)
  await writeState(runDir, { ...pick(options), pid: child.pid, dataDir })
  options.log(`broker pid ${child.pid} starting; logs in ${runDir}`)

  const brokers = `127.0.0.1:${options.port}`
  try {
    await waitUntilReady(brokers, child.process, options.signal)
  } catch (error) {
    if (options.signal?.aborted !== true) {
      options.log(`broker did not become ready; last log lines:\n${logTail(runDir)}`)
    }
    await kafkaDown({ ...options, log: () => {} })
    throw error
  }
  options.log(`broker ready in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  return { brokers, started: true }
}

/**
 * Stops the broker (SIGTERM, then SIGKILL after 20 s) and removes its data dir unless `keepData`
 * (a restart that must find its topics and offsets again); safe to repeat.
 */
export async function kafkaDown(
  options: KafkaLocalOptions,
  { keepData = false }: { keepData?: boolean } = {},
): Promise<void> {
  const runDir = options.runDir
  const state = await readState(runDir)
  if (state === undefined) {
    options.log('not running')

    return
  }

  if (isBrokerAlive(state.pid)) {
    options.log(`stopping broker pid ${state.pid}`)
    signalGroup(state.pid, 'SIGTERM')
    if (!(await waitForExit(state.pid, STOP_TIMEOUT_MS))) {
      options.log(`broker ignored SIGTERM for ${STOP_TIMEOUT_MS / 1000} s; sending SIGKILL`)
      signalGroup(state.pid, 'SIGKILL')
      await waitForExit(state.pid, 5_000)
    }
  }

  // The path comes from a file on disk: delete only a data dir that `up` could have made.
  if (!keepData && basename(state.dataDir).startsWith(DATA_DIR_PREFIX)) {
    await rm(state.dataDir, { recursive: true, force: true })
  }
  await rm(join(runDir, 'kafka.pid'), { force: true })
  await rm(join(runDir, 'kafka.json'), { force: true })
  options.log('stopped')
}

/** Reports whether a broker from `up` runs and answers; resolves its bootstrap list if so. */
export async function kafkaStatus(options: KafkaLocalOptions): Promise<string | undefined> {
  const state = await readState(options.runDir)
  if (state === undefined) {
    options.log('not running')

    return undefined
  }

  const brokers = `127.0.0.1:${state.port}`
  if (!isBrokerAlive(state.pid)) {
    options.log(`broker pid ${state.pid} has exited; run down to clean up`)

    return undefined
  }

  if (!(await answers(brokers))) {
    options.log(`broker pid ${state.pid} runs but does not answer on ${brokers}`)

    return undefined
  }
  options.log(`running: pid ${state.pid}, Kafka ${state.version}, data in ${state.dataDir}`)

  return brokers
}

async function adoptExisting(
  state: RunState,
  options: KafkaLocalOptions,
): Promise<string | undefined> {
  const brokers = `127.0.0.1:${state.port}`
  if (!isBrokerAlive(state.pid)) {
    options.log(`cleaning up after broker pid ${state.pid}, which has exited`)
    await kafkaDown({ ...options, log: () => {} })

    return undefined
  }

  // A live pid that does not answer yet may be another `up` still starting: give it the same time.
  await waitUntilReady(brokers, undefined, options.signal).catch((error: unknown) => {
    if (options.signal?.aborted === true) {
      throw error
    }
    throw new Error(`kafka-local: broker pid ${state.pid} does not answer; run down first`, {
      cause: error,
    })
  })
  options.log(`already running: pid ${state.pid} on ${brokers}`)
  if (state.port !== options.port) {
    options.log(`port ${options.port} was asked for; run down first to move the broker`)
  }

  return brokers
}

async function assertPortsFree(options: KafkaLocalOptions): Promise<void> {
  for (const port of [options.port, options.controllerPort]) {
    if (await portOpen(port)) {
      throw new Error(
        `kafka-local: port ${port} on 127.0.0.1 is taken by a process this script did not start; ` +
          'stop it or set KAFKA_PORT / KAFKA_CONTROLLER_PORT',
      )
    }
  }
}

// The jars land in libs/ only after mvn succeeds, so a second `up` finds them and fetches nothing.
async function ensureJars(options: KafkaLocalOptions): Promise<string> {
  const versionDir = join(options.cacheRoot, options.version)
  const libs = join(versionDir, 'libs')
  if (existsSync(libs)) {
    return libs
  }

  const partial = join(versionDir, 'libs.partial')
  await mkdir(versionDir, { recursive: true })
  await rm(partial, { recursive: true, force: true })
  await writeFile(join(versionDir, 'pom.xml'), brokerPom(options.version))
  options.log(`fetching Kafka ${options.version} jars with mvn (first run only; can take minutes)`)

  const started = Date.now()
  const args = ['-q', '-B', '-Dstyle.color=never', '-f', join(versionDir, 'pom.xml')]
  args.push(`${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime')
  args.push(`-DoutputDirectory=${partial}`)
  await run('mvn', args, versionDir, options.signal)
  await rename(partial, libs)
  options.log(`fetched jars in ${((Date.now() - started) / 1000).toFixed(1)} s`)

  return libs
}

function brokerPom(version: string): string {
  const dependency = (group: string, artifact: string, v: string) =>
    `    <dependency><groupId>${group}</groupId><artifactId>${artifact}</artifactId>` +
    `<version>${v}</version></dependency>`
  const log4j = ['log4j-slf4j-impl', 'log4j-core', 'log4j-api'].map((artifact) =>
    dependency('org.apache.logging.log4j', artifact, LOG4J_VERSION),
  )

  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by scripts/kafka-local.ts: the jars a Kafka broker needs. -->',
    '<project xmlns="http://maven.apache.org/POM/4.0.0">',
    '  <modelVersion>4.0.0</modelVersion>',
    '  <groupId>local.taskstream</groupId>',
    '  <artifactId>kafka-local</artifactId>',
    '  <version>0</version>',
    '  <packaging>pom</packaging>',
    '  <dependencies>',
    dependency('org.apache.kafka', 'kafka_2.13', version),
    ...log4j,
    '  </dependencies>',
    '</project>',
    '',
  ].join('\n')
}

async function prepareRun(
  libs: string,
  runDir: string,
  dataDir: string,
  options: KafkaLocalOptions,
): Promise<RunFiles> {
  try {
    const files = await writeRunFiles(runDir, dataDir, options)
    // A kept data dir is formatted already, with its own cluster id: reformatting would refuse.
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      await formatStorage(libs, files, options)
    }
    options.signal?.throwIfAborted()

    return files
  } catch (error) {
    if (options.dataDir === undefined) {
      await rm(dataDir, { recursive: true, force: true })
    }
    throw error
  }
}

interface RunFiles {
  properties: string
  log4j: string
}

async function writeRunFiles(
  runDir: string,
  dataDir: string,
  options: KafkaLocalOptions,
): Promise<RunFiles> {
  const properties = join(runDir, 'server.properties')
  const log4j = join(runDir, 'log4j2.xml')
  await rm(join(runDir, 'server.log'), { force: true })
  await writeFile(properties, serverProperties(dataDir, options))
  await writeFile(log4j, log4jConfig())

  return { properties, log4j }
}

function serverProperties(dataDir: string, options: KafkaLocalOptions): string {
  const { port, controllerPort } = options

  return [
    '# Generated by scripts/kafka-local.ts for one `up`: a single KRaft node for tests.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'inter.broker.listener.name=PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=1',
    // Tests create their topics; a typo in a topic name should fail, not invent a topic.
    'auto.create.topics.enable=false',
    // A fresh consumer group joins at once instead of after 3 s, and only one offsets partition.
    'group.initial.rebalance.delay.ms=0',
    'offsets.topic.num.partitions=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    '',
  ].join('\n')
}

// The JVM names its log file in -Dkafka.local.log, so the storage tool and the broker keep apart.
function log4jConfig(): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!-- Generated by scripts/kafka-local.ts: each JVM logs to the file it is given. -->',
    '<Configuration status="warn">',
    '  <Appenders>',
    '    <File name="file" fileName="${sys:kafka.local.log}" append="false">',
    '      <PatternLayout pattern="[%d] %p %m (%c)%n"/>',
    '    </File>',
    '  </Appenders>',
    '  <Loggers>',
    '    <Root level="info"><AppenderRef ref="file"/></Root>',
    '  </Loggers>',
    '</Configuration>',
    '',
  ].join('\n')
}

// The data dir is new on every `up`; -g (--ignore-formatted) only makes a repeated format harmless.
async function formatStorage(
  libs: string,
  files: RunFiles,
  options: KafkaLocalOptions,
): Promise<void> {
  const runDir = options.runDir
  const args = ['-Xmx256m', ...logFlags(files, join(runDir, 'format.log')), '-cp', join(libs, '*')]
  args.push('kafka.tools.StorageTool', 'format', '-g', '-t', clusterId(), '-c', files.properties)
  await run(javaCommand(), args, runDir, options.signal)
}

// Kafka's cluster id is a random UUID in unpadded base64url; one starting with '-' reads as a flag.
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) {
      return id
    }
  }
}

function startBroker(
  libs: string,
  files: RunFiles,
  runDir: string,
): { pid: number; process: ChildProcess } {
  const args = [...JVM_FLAGS, ...logFlags(files, join(runDir, 'server.log'))]
  args.push('-cp', join(libs, '*'), 'kafka.Kafka', files.properties)
  const out = openSync(join(runDir, 'stdout.log'), 'w')
  // detached: the broker leads its own process group, outlives this process and is stopped as one.
  const child = spawn(javaCommand(), args, {
    cwd: runDir,
    detached: true,
    stdio: ['ignore', out, out],
  })
  closeSync(out)
  child.unref()
  child.once('error', () => {})
  if (child.pid === undefined) {
    throw new Error(`kafka-local: could not start java; is a JDK 17+ installed?`)
  }

  return { pid: child.pid, process: child }
}

function logFlags(files: RunFiles, logFile: string): string[] {
  return [`-Dlog4j2.configurationFile=${files.log4j}`, `-Dkafka.local.log=${logFile}`]
}

async function waitUntilReady(
  brokers: string,
  child: ChildProcess | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    signal?.throwIfAborted()
    if (child !== undefined && child.exitCode !== null) {
      throw new Error(`kafka-local: broker exited with code ${child.exitCode} while starting`)
    }
    if (await answers(brokers)) {
      return
    }
    await sleep(500)
  }

  throw new Error(
    `kafka-local: broker did not answer on ${brokers} within ${READY_TIMEOUT_MS / 1000} s`,
  )
}

async function answers(brokers: string): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'kafka-local',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 5_000,
    retry: { retries: 0 },
  })
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.describeCluster()

    return true
  } catch {
    return false
  } finally {
    await admin.disconnect().catch(() => {})
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1_000 })
    const finish = (open: boolean) => {
      socket.destroy()
      resolvePort(open)
    }
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
    socket.once('timeout', () => finish(false))
  })
}

// A pid alone may have been reused since `up`; only a live kafka.Kafka JVM counts as ours.
function isBrokerAlive(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')

    return cmdline.includes('kafka.Kafka')
  } catch {
    return existsSync('/proc/self') ? false : processExists(pid)
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)

    return true
  } catch {
    return false
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (!isBrokerAlive(pid)) {
      return true
    }
    await sleep(200)
  }

  return !isBrokerAlive(pid)
}

function run(
  command: string,
  args: string[],
  cwd: string,
  signal: AbortSignal | undefined,
): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const spawnOptions = signal === undefined ? {} : { signal }
    const child = spawn(command, args, { ...spawnOptions, cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    const output: Buffer[] = []
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk))
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk))
    child.once('error', (error) => {
      reject(new Error(`kafka-local: could not run ${command}: ${error.message}`, { cause: error }))
    })
    child.once('close', (code) => {
      if (code === 0) {
        resolveRun()

        return
      }
      const text = Buffer.concat(output).toString('utf8').trim()
      reject(new Error(`kafka-local: ${command} exited with code ${code}:\n${text}`))
    })
  })
}

function javaCommand(): string {
  const home = process.env.JAVA_HOME

  return home === undefined || home === '' ? 'java' : join(home, 'bin', 'java')
}

function logTail(runDir: string): string {
  return ['server.log', 'stdout.log']
    .filter((name) => existsSync(join(runDir, name)))
    .map((name) => {
      const lines = readFileSync(join(runDir, name), 'utf8').trimEnd().split('\n')

      return `--- ${name} (last 40 lines)\n${lines.slice(-40).join('\n')}`
    })
    .join('\n')
}

function pick(options: KafkaLocalOptions): Omit<RunState, 'pid' | 'dataDir'> {
  return { port: options.port, controllerPort: options.controllerPort, version: options.version }
}

async function readState(runDir: string): Promise<RunState | undefined> {
  try {
    return JSON.parse(await readFile(join(runDir, 'kafka.json'), 'utf8')) as RunState
  } catch {
    return undefined
  }
}

async function writeState(runDir: string, state: RunState): Promise<void> {
  await writeFile(join(runDir, 'kafka.pid'), `${state.pid}\n`)
  await writeFile(join(runDir, 'kafka.json'), `${JSON.stringify(state, null, 2)}\n`)
}

function parsePort(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') {
    return fallback
  }

  const port = Number(value)
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new Error(`kafka-local: ${name} is not a port number: ${value}`)
  }

  return port
}

async function main(command: string | undefined): Promise<number> {
  const options = resolveKafkaLocalOptions(process.env)
  switch (command) {
    case 'up': {
      const { brokers } = await kafkaUp(options)
      console.log(`KAFKA_BROKERS=${brokers}`)

      return 0
    }
    case 'down':
      await kafkaDown(options)

      return 0
    case 'status': {
      const brokers = await kafkaStatus(options)
      if (brokers !== undefined) {
        console.log(`KAFKA_BROKERS=${brokers}`)
      }

      return brokers === undefined ? 1 : 0
    }
    default:
      console.error('usage: tsx scripts/kafka-local.ts up|down|status')

      return 2
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv[2]).then(
    (code) => {
      process.exitCode = code
    },
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exitCode = 1
    },
  )
}

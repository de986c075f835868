// Reminder lateness (fired time minus reminder time): 1,000 reminders spread over ten seconds
// while the API is under load, against bare setTimeout timers in the same run as the baseline;
// then 10,000 reminders due in one second. Run with `npm run bench`.
//
// As deployed, the reminder role runs in its own process (a child here), the API in another
// (this one) under a load of clients (a worker thread). The baseline timers run in the role's
// process, so they share its event loop.
import { fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'

import { Kafka, logLevel } from 'kafkajs'
import pg from 'pg'

import { signDevToken } from '../src/backend/auth/dev-token.js'
import { startBackend } from '../src/backend/server.js'
import { TOPICS } from '../src/events/catalogue.js'
import type { CloudEvent } from '../src/events/cloud-event.js'
import { KafkaEventBus } from '../src/events/kafka/kafka-event-bus.js'
import { loadConfig } from '../src/shared/config.js'
import { openDatabase, type DatabaseHandle } from '../src/shared/db/database.js'
import { createLogger } from '../src/shared/logger.js'
import { startReminderWorker } from '../src/workers/reminder/reminder-worker.js'

const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',')
const SPREAD_COUNT = 1_000
const SPREAD_MS = 10_000
const BURST_COUNT = 10_000
const LOAD_CONCURRENCY = 8
const CREATE_CONCURRENCY = 32

type Fired = CloudEvent<'reminder.fired'>

// kafkajs warns about its own defaults at every connect; errors are what matter here.
const logger = createLogger('error', 'bench')
// The child process gets the parent's id, so both work on the same schema and topics.
const id =
  process.argv[2] === 'reminder-process' ? (process.argv[3] ?? '') : randomBytes(4).toString('hex')
const schema = `bench_${id}`
const prefix = `bench_${id}.`

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? NaN
}

function stats(values: readonly number[]) {
  const sorted = [...values].sort((a, b) => a - b)

  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? NaN }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function admin(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: DATABASE_URL })
  await client.connect()
  try {
    await client.query(statement)
  } finally {
    await client.end()
  }
}

async function openBenchDatabase(poolSize: number): Promise<DatabaseHandle> {
  return openDatabase({ url: DATABASE_URL, schema, logger, poolSize })
}

/** Creates tasks over HTTP, `concurrency` at a time; resolves with their ids in order. */
async function createTasks(
  url: string,
  token: string,
  bodies: readonly object[],
  concurrency: number,
) {
  const ids: string[] = new Array<string>(bodies.length)
  let next = 0
  const lane = async () => {
    while (next < bodies.length) {
      const index = next++
      const response = await fetch(`${url}/api/tasks`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(bodies[index]),
      })
      const body = (await response.json()) as { id?: string }
      if (response.status !== 201 || body.id === undefined) {
        throw new Error(`task not created: ${response.status} ${JSON.stringify(body)}`)
      }
      ids[index] = body.id
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane))

  return ids
}

// The load runs in a worker thread, a client beside the server: it creates a task and lists
// tasks in a loop, `concurrency` loops at once, until told to stop.
const LOAD_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads')
const { url, token, concurrency, maxRequests } = workerData
let stop = false
let requests = 0
let failures = 0
parentPort.on('message', () => { stop = true })
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json' }
async function lane() {
  while (!stop && requests < maxRequests) {
    try {
      const created = await fetch(url + '/api/tasks', { method: 'POST', headers, body: JSON.stringify({ title: 'load', priority: 'low' }) })
      await created.arrayBuffer()
      const listed = await fetch(url + '/api/tasks?limit=10', { headers })
      await listed.arrayBuffer()
      requests += 2
      if (!created.ok || !listed.ok) failures++
    } catch {
      failures++
    }
  }
}
Promise.all(Array.from({ length: concurrency }, lane)).then(() => parentPort.postMessage({ requests, failures }))
`

function startLoad(url: string, token: string) {
  const worker = new Worker(LOAD_SCRIPT, {
    eval: true,
    workerData: { url, token, concurrency: LOAD_CONCURRENCY, maxRequests: 200_000 },
  })
  const done = new Promise<{ requests: number; failures: number }>((resolve, reject) => {
    worker.once('message', resolve)
    worker.once('error', reject)
  })

  return {
    async stop() {
      worker.postMessage('stop')
      const result = await done
      await worker.terminate()

      return result
    },
  }
}

/** Checks what fired against what was due: none early, none missed, none twice. */
function check(
  expected: ReadonlyMap<string, number>,
  fired: readonly Fired[],
  arrivals: ReadonlyMap<string, number[]>,
) {
  const byTask = new Map<string, Fired[]>()
  for (const event of fired) {
    if (expected.has(event.data.taskId)) {
      byTask.set(event.data.taskId, [...(byTask.get(event.data.taskId) ?? []), event])
    }
  }

  let early = 0
  let twice = 0
  let lastFiredAt = 0
  const lateness: number[] = []
  const delivery: number[] = []
  for (const [taskId, remindAt] of expected) {
    const events = byTask.get(taskId) ?? []
    const seen = arrivals.get(taskId) ?? []
    twice += Math.max(0, events.length - 1) + Math.max(0, seen.length - 1)
    const event = events[0]
    if (event === undefined) {
      continue
    }
    const firedAt = Date.parse(event.data.firedAt)
    lastFiredAt = Math.max(lastFiredAt, firedAt)
    early += firedAt < remindAt || Date.parse(event.data.remindAt) !== remindAt ? 1 : 0
    lateness.push(firedAt - remindAt)
    if (seen[0] !== undefined) {
      delivery.push(seen[0] - remindAt)
    }
  }
  const missed = [...expected.keys()].filter((taskId) => !byTask.has(taskId)).length

  return { early, missed, twice, lateness, delivery, lastFiredAt }
}

async function firedEvents(database: DatabaseHandle): Promise<Fired[]> {
  const rows = await database.db
    .selectFrom('outbox')
    .select('event')
    .where('topic', '=', TOPICS.notifications)
    .execute()

  return rows.map((row) => row.event as unknown as Fired)
}

async function waitFor(what: string, timeoutMs: number, done: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + timeoutMs
  while (!(await done())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`)
    }
    await sleep(100)
  }
}

async function scheduledCount(database: DatabaseHandle): Promise<number> {
  const row = await database.db
    .selectFrom('reminders')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('status', '=', 'scheduled')
    .executeTakeFirst()

  return Number(row?.n ?? 0)
}

const f = (ms: number) => `${ms.toFixed(ms < 10 ? 1 : 0)} ms`
const ratio = (ours: number, base: number) =>
  base > 0 ? `${(ours / base).toFixed(2)}x` : `n/a (baseline ${base} ms)`

async function main(): Promise<string[]> {
  await admin(`create schema ${schema}`)
  const backendDb = await openBenchDatabase(10)
  await backendDb.migrate()
  const backendBus = new KafkaEventBus({ ...busOptions(), clientId: 'bench-backend' })
  await backendBus.ensureTopics(Object.values(TOPICS))

  const secret = randomBytes(32).toString('hex')
  const token = await signDevToken(secret, 'bench')
  const backend = await startBackend({
    database: backendDb,
    bus: backendBus,
    logger,
    auth: { secret, jwksUrl: undefined, issuer: undefined },
    port: 0,
    host: '127.0.0.1',
    outboxSweepMs: 5_000,
    notificationsGroup: `bench-notifications-${id}`,
  })
  const reminder = await startReminderProcess()

  // Every reminder.fired as it reaches the topic, by task: arrival times (twice would show).
  const arrivals = new Map<string, number[]>()
  const receiver = await backendBus.subscribe({
    group: `bench-receiver-${id}`,
    topic: TOPICS.notifications,
    maxBatchSize: 1_000,
    handle: (events) => {
      const now = Date.now()
      for (const event of events) {
        if (event.type === 'reminder.fired') {
          arrivals.set(event.data.taskId, [...(arrivals.get(event.data.taskId) ?? []), now])
        }
      }

      return Promise.resolve()
    },
  })

  try {
    return await measure(backend.url, token, backendDb, reminder, arrivals)
  } finally {
    await receiver.close()
    await reminder.stop()
    await backend.stop()
    await backendBus.close()
    await backendDb.close()
    await admin(`drop schema ${schema} cascade`)
    const kafkaAdmin = new Kafka({
      brokers: BROKERS,
      clientId: 'bench-cleanup',
      logLevel: logLevel.NOTHING,
    }).admin()
    await kafkaAdmin.connect()
    const topics = (await kafkaAdmin.listTopics()).filter((topic) => topic.startsWith(prefix))
    await kafkaAdmin.deleteTopics({ topics })
    await kafkaAdmin.disconnect()
  }
}

async function measure(
  url: string,
  token: string,
  database: DatabaseHandle,
  reminder: ReminderProcess,
  arrivals: Map<string, number[]>,
) {
  const lines: string[] = []

  // How fast this machine creates tasks decides how far ahead the reminders must be.
  const warming = Date.now()
  await createTasks(
    url,
    token,
    Array.from({ length: 200 }, () => ({ title: 'warm-up' })),
    CREATE_CONCURRENCY,
  )
  const warmRate = (200 * 1_000) / (Date.now() - warming)

  // 1. 1,000 reminders over ten seconds, under API load, beside bare setTimeout timers.
  const start = Date.now() + (SPREAD_COUNT / warmRate) * 2_000 + 8_000
  const remindAts = Array.from(
    { length: SPREAD_COUNT },
    (_, i) => start + Math.round((i * SPREAD_MS) / SPREAD_COUNT),
  )
  await reminder.armBaseline(remindAts)
  const creating = Date.now()
  const spreadIds = await createTasks(
    url,
    token,
    remindAts.map((remindAt, i) => ({
      title: `spread ${i}`,
      dueAt: new Date(remindAt + 60_000).toISOString(),
      reminderOffsetMinutes: 1,
    })),
    CREATE_CONCURRENCY,
  )
  const createRate = (SPREAD_COUNT * 1_000) / (Date.now() - creating)
  await waitFor(
    '1,000 scheduled reminders',
    30_000,
    async () => (await scheduledCount(database)) === SPREAD_COUNT,
  )
  if (Date.now() > start - 2_500) {
    throw new Error('setting up took too long: the first reminder is too close')
  }

  await sleep(start - 2_000 - Date.now())
  const load = startLoad(url, token)
  await sleep(start + SPREAD_MS + 1_000 - Date.now())
  const loadResult = await load.stop()
  const loadSeconds = (SPREAD_MS + 3_000) / 1_000
  const spreadExpected = new Map(spreadIds.map((taskId, i) => [taskId, remindAts[i] ?? 0]))
  await waitFor('1,000 reminders on the topic', 60_000, () =>
    spreadIds.every((taskId) => arrivals.has(taskId)),
  )
  const spread = check(spreadExpected, await firedEvents(database), arrivals)
  const baseline = await reminder.baseline()
  const ours = stats(spread.lateness)
  const base = stats(baseline)
  const delivered = stats(spread.delivery)
  lines.push(
    `1,000 reminders over 10 s, API under load (${loadResult.requests} requests in ${loadSeconds} s, ${(loadResult.requests / loadSeconds).toFixed(0)}/s, ${loadResult.failures} failed)`,
    `  fired  (firedAt - remindAt): p50 ${f(ours.p50)}, p99 ${f(ours.p99)}, max ${f(ours.max)}`,
    `  baseline setTimeout:         p50 ${f(base.p50)}, p99 ${f(base.p99)}, max ${f(base.max)} (${baseline.length} timers)`,
    `  ratio ours/baseline:         p50 ${ratio(ours.p50, base.p50)}, p99 ${ratio(ours.p99, base.p99)}, max ${ratio(ours.max, base.max)}`,
    `  on the topic (arrival - remindAt): p50 ${f(delivered.p50)}, p99 ${f(delivered.p99)}, max ${f(delivered.max)}`,
    `  early ${spread.early}, missed ${spread.missed}, twice ${spread.twice}; targets p50 <= 5 ms: ${ours.p50 <= 5 ? 'met' : 'NOT met'}, p99 <= 50 ms: ${ours.p99 <= 50 ? 'met' : 'NOT met'}`,
  )

  lines.push(
    `  machine: load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(', ')} over 1, 5, 15 min`,
  )

  // 2. 10,000 reminders due within one second.
  const burstCreateMs = (BURST_COUNT / createRate) * 1_000 * 1.5 + 10_000
  const burstStart = Date.now() + burstCreateMs
  const burstAts = Array.from({ length: BURST_COUNT }, (_, i) => burstStart + (i % 1_000))
  const burstIds = await createTasks(
    url,
    token,
    burstAts.map((remindAt, i) => ({
      title: `burst ${i}`,
      dueAt: new Date(remindAt + 60_000).toISOString(),
      reminderOffsetMinutes: 1,
    })),
    CREATE_CONCURRENCY,
  )
  await waitFor(
    '10,000 scheduled reminders',
    60_000,
    async () => (await scheduledCount(database)) === BURST_COUNT,
  )
  if (Date.now() > burstStart - 1_000) {
    throw new Error('setting up the burst took too long')
  }

  await waitFor('10,000 reminders on the topic', burstStart - Date.now() + 60_000, () =>
    burstIds.every((taskId) => arrivals.has(taskId)),
  )
  const burstExpected = new Map(burstIds.map((taskId, i) => [taskId, burstAts[i] ?? 0]))
  const burst = check(burstExpected, await firedEvents(database), arrivals)
  const lastFiredMs = burst.lastFiredAt - burstStart
  const lastArrival =
    Math.max(...burstIds.map((taskId) => arrivals.get(taskId)?.[0] ?? Infinity)) - burstStart
  const burstLate = stats(burst.lateness)
  lines.push(
    `10,000 reminders due within one second`,
    `  all fired ${f(lastFiredMs)} after the second began (target: within 2,000 ms: ${lastFiredMs <= 2_000 ? 'met' : 'NOT met'})`,
    `  all on the topic ${f(lastArrival)} after it began; lateness p50 ${f(burstLate.p50)}, p99 ${f(burstLate.p99)}, max ${f(burstLate.max)}`,
    `  early ${burst.early}, missed ${burst.missed}, twice ${burst.twice}`,
  )

  return lines
}

function busOptions() {
  return { brokers: BROKERS, topicPrefix: prefix, logger, partitions: 6 }
}

type ToChild = { type: 'baseline'; times: number[] } | { type: 'report' } | { type: 'stop' }
type FromChild = { type: 'ready' } | { type: 'armed' } | { type: 'baseline'; lateness: number[] }

interface ReminderProcess {
  armBaseline(times: readonly number[]): Promise<void>
  baseline(): Promise<number[]>
  stop(): Promise<void>
}

/** Forks this file as the reminder role's process; it answers over IPC. */
async function startReminderProcess(): Promise<ReminderProcess> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['reminder-process', id], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const replies: FromChild[] = []
  let wake: (() => void) | undefined
  child.on('message', (message: FromChild) => {
    replies.push(message)
    wake?.()
  })
  const next = async <T extends FromChild['type']>(type: T) => {
    for (;;) {
      const index = replies.findIndex((r) => r.type === type)
      if (index >= 0) {
        return replies.splice(index, 1)[0] as Extract<FromChild, { type: T }>
      }
      if (child.exitCode !== null) {
        throw new Error(`the reminder process exited with ${child.exitCode}`)
      }
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 500)
      })
    }
  }
  const send = (message: ToChild) => child.send(message)
  await next('ready')

  return {
    async armBaseline(times) {
      send({ type: 'baseline', times: [...times] })
      await next('armed')
    },
    async baseline() {
      send({ type: 'report' })

      return (await next('baseline')).lateness
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve))
        send({ type: 'stop' })
        await exited
      }
    },
  }
}

/** The reminder role's process: the role itself, and the baseline timers beside it. */
async function reminderProcess(): Promise<void> {
  const database = await openBenchDatabase(10)
  const bus = new KafkaEventBus({ ...busOptions(), clientId: 'bench-reminder' })
  const role = await startReminderWorker({
    config: loadConfig({}),
    database,
    bus,
    logger,
    group: `bench-reminder-${id}`,
  })
  const lateness: number[] = []
  const reply = (message: FromChild) => process.send?.(message)
  process.on('message', (message: ToChild) => {
    if (message.type === 'baseline') {
      for (const at of message.times) {
        setTimeout(() => lateness.push(Date.now() - at), at - Date.now())
      }
      reply({ type: 'armed' })
    } else if (message.type === 'report') {
      reply({ type: 'baseline', lateness })
    } else {
      void (async () => {
        await role.stop()
        await bus.close()
        await database.close()
        process.disconnect()
      })()
    }
  })
  reply({ type: 'ready' })
}

if (process.argv[2] === 'reminder-process') {
  await reminderProcess()
} else {
  const summary = await main()
  console.log(summary.join('\n'))
  if (process.env.BENCH_RESULT_FILE !== undefined) {
    const result = { title: 'reminder lateness', summary }
    await writeFile(process.env.BENCH_RESULT_FILE, JSON.stringify(result))
  }
}

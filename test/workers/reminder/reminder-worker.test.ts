// The reminder role on real PostgreSQL and Kafka, driven by a clock the test controls: tasks
// go in over HTTP, `reminder.fired` events come out of the outbox and Kafka.
import t, { type Test } from 'tap'

import type { AnyCloudEvent, CloudEvent } from '../../../src/events/cloud-event.js'
import { loadConfig } from '../../../src/shared/config.js'
import { reminderEventId } from '../../../src/workers/reminder/reminder-event.js'
import { REMINDER_REASONS } from '../../../src/workers/reminder/reminder-schedule.js'
import {
  startReminderWorker,
  type RunningReminderWorker,
} from '../../../src/workers/reminder/reminder-worker.js'
import { randomName, testLogger } from '../../helpers/test-database.js'
import { createTestKafkaBus, readTopic, type TestKafka } from '../../helpers/test-kafka.js'
import { eventually, startTestSystem, type TestSystem } from '../../helpers/test-system.js'

type Fired = CloudEvent<'reminder.fired'>

function controllableClock(start: string) {
  let now = new Date(start).getTime()

  return {
    clock: () => new Date(now),
    set(iso: string) {
      now = new Date(iso).getTime()
    },
  }
}

async function startWorker(
  t: Test,
  system: TestSystem,
  clock: () => Date,
  options: { group?: string; batchSize?: number } = {},
): Promise<RunningReminderWorker> {
  const worker = await startReminderWorker(
    {
      config: loadConfig({}),
      database: system.database,
      bus: system.bus,
      logger: testLogger,
      group: options.group ?? randomName('g-reminder'),
    },
    { clock, ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }) },
  )
  // Stops once, whether the test stops it (a restart) or the teardown does.
  let stopping: Promise<void> | undefined
  const stop = () => (stopping ??= worker.stop())
  t.teardown(stop)

  return { ...worker, stop }
}

/** Every `reminder.fired` event the outbox ever held (sent rows are kept for a day). */
async function firedEvents(system: TestSystem): Promise<Fired[]> {
  const rows = await system.database.db.selectFrom('outbox').select('event').orderBy('id').execute()

  return rows
    .map((row) => row.event as unknown as AnyCloudEvent)
    .filter((event): event is Fired => event.type === 'reminder.fired')
}

async function createTask(system: TestSystem, body: Record<string, unknown>, user = 'alice') {
  const created = await system.request(user, 'POST', '/api/tasks', {
    title: 'Reminder test',
    ...body,
  })
  if (created.status !== 201) {
    throw new Error(`task not created: ${JSON.stringify(created.body)}`)
  }

  return created.body as { id: string; dueAt: string; version: number }
}

async function scheduled(worker: RunningReminderWorker, taskId: string, version = 1) {
  return eventually(
    async () => {
      const record = await worker.store.get(taskId)

      return record !== undefined && record.taskVersion >= version ? record : undefined
    },
    20_000,
    `reminder of ${taskId} at version ${version}`,
  )
}

async function setUp(t: Test): Promise<{ kafka: TestKafka; system: TestSystem }> {
  const kafka = await createTestKafkaBus(t)
  const system = await startTestSystem(t, { bus: kafka.bus })

  return { kafka, system }
}

t.test(
  'reminder role should fire once at 07:00Z for a nonexistent wall time (spring forward)',
  async (t) => {
    const { kafka, system } = await setUp(t)
    const time = controllableClock('2026-03-08T06:00:00Z')
    const worker = await startWorker(t, system, time.clock)

    // 02:30 on 2026-03-08 does not exist in New York: it means 03:30 EDT, 07:30Z.
    const task = await createTask(system, {
      dueAt: '2026-03-08T02:30',
      timeZone: 'America/New_York',
      reminderOffsetMinutes: 30,
    })
    t.equal(task.dueAt, '2026-03-08T07:30:00.000Z')
    const record = await scheduled(worker, task.id)
    t.same(record.remindAt, new Date('2026-03-08T07:00:00.000Z'))
    t.equal(worker.scheduler.armedAt, Date.parse('2026-03-08T07:00:00.000Z'), 'timer armed for it')

    time.set('2026-03-08T06:59:59.999Z')
    await worker.scheduler.sweepNow()
    t.same(await firedEvents(system), [], 'nothing fires a millisecond early')

    time.set('2026-03-08T07:00:00.000Z')
    await worker.scheduler.sweepNow()
    time.set('2026-03-08T08:00:00.000Z')
    await worker.scheduler.sweepNow()
    await worker.relay.flush()

    const fired = await firedEvents(system)
    t.equal(fired.length, 1, 'fired once')
    t.match(fired[0], {
      id: reminderEventId(task.id, new Date('2026-03-08T07:00:00.000Z')),
      source: '/taskstream/reminder',
      subject: task.id,
      data: {
        taskId: task.id,
        userId: 'alice',
        title: 'Reminder test',
        dueAt: '2026-03-08T07:30:00.000Z',
        remindAt: '2026-03-08T07:00:00.000Z',
        firedAt: '2026-03-08T07:00:00.000Z',
        lateMs: 0,
      },
    })
    const [message] = await readTopic(kafka.brokers, `${kafka.prefix}notifications`, 1)
    t.equal(message?.key, task.id, 'on the notifications topic, keyed by task')
    t.equal((JSON.parse(message?.value ?? '{}') as Fired).id, fired[0]?.id)
  },
)

t.test(
  'reminder role should fire once at 05:00Z for an ambiguous wall time (fall back)',
  async (t) => {
    const { system } = await setUp(t)
    const time = controllableClock('2026-11-01T04:00:00Z')
    const worker = await startWorker(t, system, time.clock)

    // 01:30 on 2026-11-01 happens twice in New York: the first, 01:30 EDT, is 05:30Z.
    const task = await createTask(system, {
      dueAt: '2026-11-01T01:30',
      timeZone: 'America/New_York',
      reminderOffsetMinutes: 30,
    })
    t.equal(task.dueAt, '2026-11-01T05:30:00.000Z')
    t.same((await scheduled(worker, task.id)).remindAt, new Date('2026-11-01T05:00:00.000Z'))

    for (const now of ['2026-11-01T05:00:00Z', '2026-11-01T06:00:00Z', '2026-11-01T06:30:00Z']) {
      time.set(now)
      await worker.scheduler.sweepNow()
    }

    const fired = await firedEvents(system)
    t.equal(fired.length, 1, 'fired once, not again an hour later')
    t.equal(fired[0]?.data.remindAt, '2026-11-01T05:00:00.000Z')
    t.equal(fired[0]?.data.lateMs, 0)
  },
)

t.test(
  'two reminder replicas should fire 100 reminders due in one second exactly once each',
  async (t) => {
    const { kafka, system } = await setUp(t)
    const time = controllableClock('2030-05-01T09:00:00Z')
    const group = randomName('g-reminder')
    const replicas = [
      await startWorker(t, system, time.clock, { group, batchSize: 7 }),
      await startWorker(t, system, time.clock, { group, batchSize: 7 }),
    ]

    const ids: string[] = []
    for (let i = 0; i < 100; i++) {
      const dueAt = new Date(Date.parse('2030-05-01T10:00:00.000Z') + i * 9).toISOString()
      ids.push((await createTask(system, { dueAt, reminderOffsetMinutes: 0 })).id)
    }
    await eventually(
      async () => {
        const rows = await system.database.db
          .selectFrom('reminders')
          .select('task_id')
          .where('status', '=', 'scheduled')
          .execute()

        return rows.length === 100 ? true : undefined
      },
      30_000,
      '100 scheduled reminders',
    )

    time.set('2030-05-01T10:00:01Z')
    await Promise.all(
      replicas.flatMap((replica) => [replica.scheduler.sweepNow(), replica.scheduler.sweepNow()]),
    )
    await Promise.all(replicas.map((replica) => replica.scheduler.sweepNow()))

    const fired = await firedEvents(system)
    t.equal(fired.length, 100, '100 events')
    t.equal(new Set(fired.map((event) => event.id)).size, 100, 'none twice')
    t.same(new Set(fired.map((event) => event.data.taskId)), new Set(ids), 'one per task')

    await system.backend.relay.flush()
    const messages = await readTopic(kafka.brokers, `${kafka.prefix}notifications`, 100, 30_000)
    t.equal(new Set(messages.map((m) => (JSON.parse(m.value) as Fired).id)).size, 100)
  },
)

t.test(
  'reminder role should fire a reminder missed while it was down once, late, and not one completed meanwhile',
  async (t) => {
    const { system } = await setUp(t)
    const time = controllableClock('2030-01-01T10:00:00Z')
    const group = randomName('g-reminder')
    const first = await startWorker(t, system, time.clock, { group })

    const missed = await createTask(system, {
      title: 'missed',
      dueAt: '2030-01-01T10:30:00Z',
      reminderOffsetMinutes: 10,
    })
    const done = await createTask(system, {
      title: 'done',
      dueAt: '2030-01-01T10:30:00Z',
      reminderOffsetMinutes: 10,
    })
    const later = await createTask(system, {
      title: 'later',
      dueAt: '2030-01-01T11:00:00Z',
      reminderOffsetMinutes: 15,
    })
    await scheduled(first, missed.id)
    await scheduled(first, done.id)
    await scheduled(first, later.id)
    await first.stop()

    // Down: the task is completed, and the reminder time (10:20) passes by two minutes.
    const completed = await system.request('alice', 'POST', `/api/tasks/${done.id}/complete`)
    t.equal(completed.status, 200)
    await system.backend.relay.flush()
    time.set('2030-01-01T10:22:00Z')

    const second = await startWorker(t, system, time.clock, { group })
    const cancelled = await scheduled(second, done.id, 2)
    t.equal(cancelled.status, 'cancelled')
    t.equal(cancelled.reason, REMINDER_REASONS.completed)
    await second.scheduler.sweepNow()
    await second.scheduler.sweepNow()

    const fired = await firedEvents(system)
    t.equal(fired.length, 1, 'only the missed reminder fired')
    t.match(fired[0]?.data, {
      taskId: missed.id,
      title: 'missed',
      remindAt: '2030-01-01T10:20:00.000Z',
      firedAt: '2030-01-01T10:22:00.000Z',
      lateMs: 120_000,
    })
    t.equal((await second.store.get(later.id))?.status, 'scheduled')
    t.equal(
      second.scheduler.armedAt,
      Date.parse('2030-01-01T10:45:00Z'),
      'the next keeps its own time',
    )
  },
)

t.test(
  'reminder role should fire only the new reminder when the due date moves, and none for a deleted task',
  async (t) => {
    const { system } = await setUp(t)
    const time = controllableClock('2030-02-01T08:00:00Z')
    const worker = await startWorker(t, system, time.clock)

    const moved = await createTask(system, {
      title: 'moved',
      dueAt: '2030-02-01T09:00:00Z',
      reminderOffsetMinutes: 10,
    })
    const deleted = await createTask(system, {
      title: 'deleted',
      dueAt: '2030-02-01T09:00:00Z',
      reminderOffsetMinutes: 10,
    })
    await scheduled(worker, moved.id)
    await scheduled(worker, deleted.id)
    const patched = await system.request('alice', 'PATCH', `/api/tasks/${moved.id}`, {
      dueAt: '2030-02-01T12:00:00Z',
    })
    t.equal(patched.status, 200)
    t.equal((await system.request('alice', 'DELETE', `/api/tasks/${deleted.id}`)).status, 204)
    t.equal(
      (await scheduled(worker, moved.id, 2)).remindAt?.toISOString(),
      '2030-02-01T11:50:00.000Z',
    )
    t.match(await scheduled(worker, deleted.id, 2), {
      status: 'cancelled',
      reason: REMINDER_REASONS.deleted,
    })

    time.set('2030-02-01T08:55:00Z')
    await worker.scheduler.sweepNow()
    t.same(await firedEvents(system), [], 'the old time passes quietly')

    time.set('2030-02-01T11:50:00.250Z')
    await worker.scheduler.sweepNow()
    const fired = await firedEvents(system)
    t.equal(fired.length, 1)
    t.match(fired[0]?.data, { taskId: moved.id, remindAt: '2030-02-01T11:50:00.000Z', lateMs: 250 })
  },
)

t.test(
  'reminder role should not roll the schedule back for events that arrive late or twice',
  async (t) => {
    const { kafka, system } = await setUp(t)
    const time = controllableClock('2030-03-01T08:00:00Z')
    const worker = await startWorker(t, system, time.clock)

    const task = await createTask(system, {
      dueAt: '2030-03-01T09:00:00Z',
      reminderOffsetMinutes: 10,
    })
    await system.request('alice', 'PATCH', `/api/tasks/${task.id}`, {
      dueAt: '2030-03-01T10:00:00Z',
    })
    await scheduled(worker, task.id, 2)
    await system.backend.relay.flush()
    const rows = await system.database.db
      .selectFrom('outbox')
      .select('event')
      .orderBy('id')
      .execute()
    const created = rows
      .map((row) => row.event as unknown as AnyCloudEvent)
      .find((event) => event.type === 'task.created')
    if (created === undefined) {
      throw new Error('expected the task.created event in the outbox')
    }

    await kafka.bus.publish([created, created])
    const marker = await createTask(system, {
      dueAt: '2030-03-01T09:30:00Z',
      reminderOffsetMinutes: 5,
    })
    await scheduled(worker, marker.id)

    t.match(await worker.store.get(task.id), {
      taskVersion: 2,
      status: 'scheduled',
      remindAt: new Date('2030-03-01T09:50:00.000Z'),
    })
  },
)

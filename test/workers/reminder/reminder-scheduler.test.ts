// The scheduler's timer on a real PostgreSQL store: long waits within setTimeout's limit,
// reminders fired at their time and never early, concurrent claimers that never share one.
import { randomUUID } from 'node:crypto'

import t from 'tap'

import type { AnyCloudEvent } from '../../../src/events/cloud-event.js'
import type { DatabaseHandle } from '../../../src/shared/db/database.js'
import { PgReminderStore } from '../../../src/workers/reminder/pg-reminder-store.js'
import { ReminderScheduler } from '../../../src/workers/reminder/reminder-scheduler.js'
import type { ReminderRecord } from '../../../src/workers/reminder/reminder-store.js'
import { createTestDatabase, testLogger } from '../../helpers/test-database.js'
import { eventually } from '../../helpers/test-system.js'

function record(remindAt: Date): ReminderRecord {
  return {
    taskId: randomUUID(),
    userId: 'alice',
    title: 'Pay the rent',
    dueAt: new Date(remindAt.getTime() + 3_600_000),
    remindAt,
    taskVersion: 1,
    status: 'scheduled',
    reason: null,
    firedAt: null,
  }
}

async function schedule(store: PgReminderStore, records: ReminderRecord[]): Promise<void> {
  await store.update(
    records.map((r) => r.taskId),
    () => records,
  )
}

async function firedEvents(database: DatabaseHandle) {
  const rows = await database.db.selectFrom('outbox').select('event').execute()

  return rows.map((row) => row.event as unknown as AnyCloudEvent)
}

t.test('reminder scheduler should arm for a reminder 30 days away without firing it', async (t) => {
  const database = await createTestDatabase(t)
  const store = new PgReminderStore(database.db)
  const far = record(new Date(Date.now() + 30 * 86_400_000))
  await schedule(store, [far])
  const scheduler = new ReminderScheduler({ store, logger: testLogger, sweepMs: 60_000 })
  t.teardown(() => scheduler.stop())

  scheduler.start()
  await scheduler.sweepNow()
  // Past 2^31-1 ms a bare setTimeout fires at once; give it the chance to.
  await new Promise((resolve) => setTimeout(resolve, 100))

  t.equal(scheduler.armedAt, far.remindAt?.getTime())
  t.equal((await store.get(far.taskId))?.status, 'scheduled')
  t.same(await firedEvents(database), [])
})

t.test('reminder scheduler should fire reminders at their time, never early', async (t) => {
  const database = await createTestDatabase(t)
  const store = new PgReminderStore(database.db)
  const fired: { remindAt: Date; firedAt: Date }[] = []
  const scheduler = new ReminderScheduler({
    store,
    logger: testLogger,
    sweepMs: 60_000,
    onFired: (batch) => fired.push(...batch),
  })
  t.teardown(() => scheduler.stop())
  scheduler.start()

  const soon = [300, 310, 320, 600].map((ms) => record(new Date(Date.now() + ms)))
  await schedule(store, soon)
  for (const r of soon) {
    if (r.remindAt !== null) {
      scheduler.schedule(r.remindAt)
    }
  }

  await eventually(async () => (fired.length === soon.length ? true : undefined))
  for (const f of fired) {
    t.ok(
      f.firedAt >= f.remindAt,
      `fired at ${f.firedAt.toISOString()}, due ${f.remindAt.toISOString()}`,
    )
  }
  t.equal((await firedEvents(database)).length, soon.length, 'one event each')
})

t.test('pg reminder store should never hand one reminder to two concurrent claimers', async (t) => {
  const database = await createTestDatabase(t)
  const first = new PgReminderStore(database.db)
  const second = new PgReminderStore(database.db)
  const due = Array.from({ length: 60 }, (_, i) => record(new Date(Date.now() - 1_000 + i)))
  await schedule(first, due)

  const claimAll = async (store: PgReminderStore) => {
    const ids: string[] = []
    for (;;) {
      const batch = await store.claimDue(new Date(), 4)
      ids.push(...batch.map((b) => b.taskId))
      if (batch.length === 0) {
        return ids
      }
    }
  }
  const [a, b] = await Promise.all([claimAll(first), claimAll(second)])

  t.equal(a.length + b.length, 60)
  t.equal(new Set([...a, ...b]).size, 60, 'none twice')
  t.equal((await firedEvents(database)).length, 60)
})

t.test('pg reminder store should give reminders back when the fire time comes early', async (t) => {
  const database = await createTestDatabase(t)
  const store = new PgReminderStore(database.db)
  const due = record(new Date('2030-01-01T00:00:00Z'))
  await schedule(store, [due])

  const early = await store.claimDue(new Date('2030-01-01T00:00:00Z'), 10, () =>
    Promise.resolve(new Date('2029-12-31T23:59:59.999Z')),
  )
  t.same(early, [])
  t.equal((await store.get(due.taskId))?.status, 'scheduled')

  const onTime = await store.claimDue(new Date('2030-01-01T00:00:00Z'), 10, () =>
    Promise.resolve(new Date('2030-01-01T00:00:00.003Z')),
  )
  t.match(onTime, [{ taskId: due.taskId, lateMs: 3 }])
})

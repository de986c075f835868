// The reminder schedule in a Dapr state store, over real HTTP against the stand-in sidecar
// (test/helpers/fake-dapr-sidecar.ts, written from Dapr's state API reference) and a real
// PostgreSQL for the outbox and the tasks table. No Dapr runtime runs here.
import { randomUUID } from 'node:crypto'

import t, { type Test } from 'tap'

import { DaprStateStore } from '../../../src/events/dapr/dapr-state-store.js'
import { DaprReminderStore } from '../../../src/workers/reminder/dapr-reminder-store.js'
import type { ReminderRecord } from '../../../src/workers/reminder/reminder-store.js'
import { startFakeSidecar } from '../../helpers/fake-dapr-sidecar.js'
import { createTestDatabase } from '../../helpers/test-database.js'

const NOW = new Date('2026-06-01T12:00:00.000Z')

function scheduled(taskId: string, taskVersion: number, remindAt = NOW): ReminderRecord {
  return {
    taskId,
    userId: 'alice',
    title: `task ${taskId.slice(0, 4)}`,
    dueAt: new Date(remindAt.getTime() + 30 * 60_000),
    remindAt,
    taskVersion,
    status: 'scheduled',
    reason: null,
    firedAt: null,
  }
}

async function setup(t: Test) {
  const sidecar = await startFakeSidecar(t)
  const database = await createTestDatabase(t)
  const replica = () =>
    new DaprReminderStore(
      new DaprStateStore({ httpPort: sidecar.port, host: '127.0.0.1', storeName: 'statestore' }),
      database.db,
    )

  return { sidecar, database, replica }
}

t.test('dapr reminder store should fire each reminder once across two replicas', async (t) => {
  const { database, replica } = await setup(t)
  const [a, b] = [replica(), replica()]
  const ids = Array.from({ length: 20 }, () => randomUUID())
  const saved = await a.update(ids, () => ids.map((id) => scheduled(id, 1)))
  t.equal(saved.length, 20)
  t.same(
    await a.update(ids, () => ids.map((id) => scheduled(id, 1))),
    [],
    'same version: no change',
  )
  t.same(await b.nextDueAt(), NOW, 'the other replica sees the schedule')

  const [firedA, firedB] = await Promise.all([a.claimDue(NOW, 100), b.claimDue(NOW, 100)])
  const fired = [...firedA, ...firedB].map((f) => f.taskId)
  t.equal(fired.length, 20, 'every reminder fired')
  t.equal(new Set(fired).size, 20, 'none by both replicas')
  for (const id of ids) {
    t.equal((await a.get(id))?.status, 'fired')
  }
  t.equal(await a.nextDueAt(), undefined, 'nothing left to fire')

  const events = await database.db.selectFrom('outbox').select('event').execute()
  const eventIds = new Set(events.map((row) => (row.event as { id: string }).id))
  t.equal(eventIds.size, 20, 'one event id per reminder (a lost race repeats the same id)')
  t.same(
    await a.claimDue(new Date(NOW.getTime() + 60_000), 100),
    [],
    'a second claim fires nothing',
  )
})

t.test('dapr reminder store should retry a stale ETag and never roll back a version', async (t) => {
  const { sidecar, database } = await setup(t)
  const address = { httpPort: sidecar.port, host: '127.0.0.1', storeName: 'statestore' }
  const b = new DaprReminderStore(new DaprStateStore(address), database.db)
  const id = randomUUID()
  const later = new Date(NOW.getTime() + 3_600_000)
  let raced = false

  // Replica A's state client lets replica B apply version 3 between A's read and A's write.
  class RacingState extends DaprStateStore {
    override async save<T>(key: string, value: T, etag?: string): Promise<void> {
      if (!raced && key.endsWith(id) && etag !== undefined) {
        raced = true
        await b.update([id], () => [scheduled(id, 3, later)])
      }

      return super.save(key, value, etag)
    }
  }
  const a = new DaprReminderStore(new RacingState(address), database.db)
  await a.update([id], () => [scheduled(id, 1)])

  let calls = 0
  const saved = await a.update([id], () => {
    calls++

    return [scheduled(id, 2)]
  })
  t.ok(raced, 'the other replica wrote in between')
  t.equal(calls, 2, 'the conflict made it read and decide again')
  t.same(saved, [], 'version 2 is older than the stored 3, so it is dropped')
  t.equal((await a.get(id))?.taskVersion, 3)
  t.same(await a.nextDueAt(), later, 'the index follows the newest record')
})

t.test(
  'dapr reminder store should hold a reminder whose task changed in the backlog',
  async (t) => {
    const { database, replica } = await setup(t)
    const store = replica()
    const id = randomUUID()
    await store.update([id], () => [scheduled(id, 1)])
    await database.db
      .insertInto('tasks')
      .values({
        id,
        user_id: 'alice',
        title: 'done while the role was down',
        description: '',
        priority: 'medium',
        tags: [],
        status: 'completed',
        due_at: NOW,
        time_zone: 'UTC',
        reminder_offset_minutes: 30,
        recurrence: null,
        series_id: null,
        series_anchor: null,
        occurrence: null,
        completed_at: NOW,
        deleted_at: null,
        version: 2,
        created_at: NOW,
        updated_at: NOW,
      })
      .execute()

    t.same(await store.claimDue(NOW, 10), [], 'the completion (version 2) is applied first')
    t.equal((await store.get(id))?.status, 'scheduled')
  },
)

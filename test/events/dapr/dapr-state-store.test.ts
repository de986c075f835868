// The state store client with ETag concurrency, against a fake sidecar on 127.0.0.1 that
// answers a stale ETag with 409 as daprd does.
import t from 'tap'

import { DaprStateStore, isStateConflict } from '../../../src/events/dapr/dapr-state-store.js'
import { startFakeSidecar } from '../../helpers/fake-dapr-sidecar.js'

interface Reminder {
  taskId: string
  remindAt: string
}

const KEY = 'reminder||3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f'

t.test('dapr state store should read and write with etags, first write wins', async (t) => {
  const fake = await startFakeSidecar(t)
  const store = new DaprStateStore({ httpPort: fake.port, storeName: 'statestore' })

  t.equal(await store.get<Reminder>(KEY), undefined, 'nothing stored yet')
  await store.save<Reminder>(KEY, { taskId: 't1', remindAt: '2026-01-01T09:30:00.000Z' })
  const first = await store.get<Reminder>(KEY)
  t.same(first?.value, { taskId: 't1', remindAt: '2026-01-01T09:30:00.000Z' })
  t.ok(first?.etag, 'the etag comes with the value')

  await store.save<Reminder>(
    KEY,
    { taskId: 't1', remindAt: '2026-01-01T10:00:00.000Z' },
    first!.etag,
  )
  const second = await store.get<Reminder>(KEY)
  t.not(second?.etag, first?.etag, 'a write makes a new version')

  const saves = fake.requestsTo('/v1.0/state/statestore').filter((r) => r.method === 'POST')
  t.same(
    JSON.parse(saves[1]!.body),
    [
      {
        key: KEY,
        value: { taskId: 't1', remindAt: '2026-01-01T10:00:00.000Z' },
        etag: first!.etag,
        options: { concurrency: 'first-write', consistency: 'strong' },
      },
    ],
    'the save request carries the etag read and first-write concurrency',
  )
  t.equal(saves[1]!.url, '/v1.0/state/statestore')
})

t.test(
  'dapr state store should surface a stale etag as a retryable EVT_STATE_CONFLICT',
  async (t) => {
    const fake = await startFakeSidecar(t)
    const store = new DaprStateStore({ httpPort: fake.port, storeName: 'statestore' })
    await store.save<Reminder>(KEY, { taskId: 't1', remindAt: '2026-01-01T09:30:00.000Z' })
    const read = await store.get<Reminder>(KEY)
    // Another replica writes in between.
    await store.save<Reminder>(
      KEY,
      { taskId: 't1', remindAt: '2026-01-01T11:00:00.000Z' },
      read!.etag,
    )

    const err = await store
      .save<Reminder>(KEY, { taskId: 't1', remindAt: '2026-01-01T12:00:00.000Z' }, read!.etag)
      .catch((e: unknown) => e)
    t.ok(isStateConflict(err), 'a conflict, not a crash')
    t.match(err, { code: 'EVT_STATE_CONFLICT', retryable: true, details: { status: 409 } })
    t.equal((await store.get<Reminder>(KEY))?.value.remindAt, '2026-01-01T11:00:00.000Z', 'kept')

    await t.rejects(
      store.save<Reminder>(KEY, { taskId: 't1', remindAt: '2026-01-01T12:00:00.000Z' }),
      { code: 'EVT_STATE_CONFLICT' },
      'without an etag an existing key is a conflict too',
    )
    await t.rejects(store.delete(KEY, read!.etag), { code: 'EVT_STATE_CONFLICT' }, 'stale delete')

    const current = await store.get<Reminder>(KEY)
    await store.delete(KEY, current!.etag)
    t.equal(await store.get<Reminder>(KEY), undefined, 'deleted with the current etag')
    const deletes = fake.requestsTo(`/v1.0/state/statestore/`).filter((r) => r.method === 'DELETE')
    t.equal(deletes[1]?.headers['if-match'], current!.etag, 'the etag travels in If-Match')
  },
)

t.test('dapr state store should fail retryably when the sidecar is unreachable', async (t) => {
  // Port 1 on localhost: nothing listens there.
  const closed = new DaprStateStore({ httpPort: 1, storeName: 'statestore' })

  await t.rejects(closed.get(KEY), { code: 'EVT_STATE_FAILED', retryable: true })
  await t.rejects(closed.save(KEY, {}), { code: 'EVT_STATE_FAILED', retryable: true })
})

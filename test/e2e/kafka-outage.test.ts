// Kafka goes away while people keep working: the API must keep answering, and once the broker
// is back every event must reach the audit table exactly once. The test runs its own broker,
// so stopping it disturbs no other test.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import t from 'tap'

import { KafkaEventBus } from '../../src/events/kafka/kafka-event-bus.js'
import { TOPICS } from '../../src/events/catalogue.js'
import { countUnsent } from '../../src/shared/outbox/outbox-repository.js'
import { kafkaDown, kafkaUp, resolveKafkaLocalOptions } from '../../scripts/kafka-local.js'
import { freePort } from '../../scripts/run-tests.js'
import { testLogger } from '../helpers/test-database.js'
import { readTopic } from '../helpers/test-kafka.js'
import { eventually, startTestSystem } from '../helpers/test-system.js'

t.test('pipeline should keep every event through a Kafka outage, none twice', async (t) => {
  const runDir = await mkdtemp(join(tmpdir(), 'taskstream-outage-run-'))
  const dataDir = await mkdtemp(join(tmpdir(), 'taskstream-kafka-outage-'))
  const port = await freePort()
  const options = resolveKafkaLocalOptions(process.env, {
    port,
    controllerPort: await freePort(),
    runDir,
    dataDir,
    log: () => {},
  })
  t.teardown(async () => {
    await kafkaDown(options)
    await rm(runDir, { recursive: true, force: true })
    await rm(dataDir, { recursive: true, force: true })
  })
  const { brokers } = await kafkaUp(options)

  const bus = new KafkaEventBus({
    brokers: [brokers],
    clientId: 'outage-test',
    logger: testLogger,
    partitions: 3,
  })
  await bus.ensureTopics(Object.values(TOPICS))
  t.teardown(() => bus.close())
  const system = await startTestSystem(t, { bus, roles: ['audit'] })
  const auditCount = async () => {
    const row = await system.database.db
      .selectFrom('audit_entries')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow()

    return Number(row.n)
  }

  const before: string[] = []
  for (let i = 0; i < 3; i++) {
    before.push(
      (await system.request('alice', 'POST', '/api/tasks', { title: `before ${i}` })).body
        .id as string,
    )
  }
  await eventually(
    async () => ((await auditCount()) === 3 ? true : undefined),
    30_000,
    'audit rows before the outage',
  )

  await kafkaDown(options, { keepData: true })
  const during: number[] = []
  for (let i = 0; i < 10; i++) {
    const created = await system.request('alice', 'POST', '/api/tasks', { title: `during ${i}` })
    during.push(created.status)
    const id = created.body.id as string
    during.push(
      (await system.request('alice', 'PATCH', `/api/tasks/${id}`, { priority: 'high' })).status,
    )
  }
  t.same(
    during,
    Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 201 : 200)),
    'the API kept answering',
  )
  t.ok((await countUnsent(system.database.db)) > 0, 'events wait in the outbox while Kafka is down')

  await kafkaUp(options)
  const expected = 3 + 20
  await eventually(
    async () => ((await auditCount()) === expected ? true : undefined),
    90_000,
    'audit rows after the outage',
  )
  await eventually(
    async () => ((await countUnsent(system.database.db)) === 0 ? true : undefined),
    30_000,
    'outbox drained',
  )

  const rows = await system.database.db
    .selectFrom('audit_entries')
    .select(['event_id', 'task_id', 'task_version'])
    .execute()
  t.equal(rows.length, expected, 'every event reached the audit table')
  t.equal(new Set(rows.map((r) => r.event_id)).size, expected, 'none twice')

  // Order per task on the topic, as any consumer sees it.
  const messages = await readTopic([brokers], 'tasks', expected)
  const versions = new Map<string, number[]>()
  for (const message of messages) {
    const event = JSON.parse(message.value) as { subject: string; data: { version: number } }
    versions.set(event.subject, [...(versions.get(event.subject) ?? []), event.data.version])
  }
  for (const [taskId, seen] of versions) {
    t.same(
      seen,
      [...seen].sort((a, b) => a - b),
      `task ${taskId} events in order`,
    )
  }
})

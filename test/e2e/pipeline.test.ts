// The whole pipeline on real services: HTTP → PostgreSQL (task + outbox) → relay → Kafka →
// audit role → PostgreSQL, and a consumer none of us wrote (kcat) reading the topic.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

import t from 'tap'

import type { AnyCloudEvent } from '../../src/events/cloud-event.js'
import { validateEvent } from '../../src/events/event-validator.js'
import { createTestKafkaBus } from '../helpers/test-kafka.js'
import { eventually, startTestSystem, type TestSystem } from '../helpers/test-system.js'

const run = promisify(execFile)

async function auditRows(system: TestSystem, taskId?: string) {
  let query = system.database.db.selectFrom('audit_entries').selectAll()
  if (taskId !== undefined) {
    query = query.where('task_id', '=', taskId)
  }

  return query.orderBy('task_version').execute()
}

async function outboxEvents(system: TestSystem): Promise<AnyCloudEvent[]> {
  const rows = await system.database.db.selectFrom('outbox').select('event').orderBy('id').execute()

  return rows.map((row) => row.event as unknown as AnyCloudEvent)
}

t.test(
  'pipeline should turn a created task into exactly one audit row with the event id',
  async (t) => {
    const kafka = await createTestKafkaBus(t)
    const system = await startTestSystem(t, { bus: kafka.bus, roles: ['audit'] })

    const created = await system.request('alice', 'POST', '/api/tasks', { title: 'Audit me' })
    t.equal(created.status, 201)
    const rows = await eventually(async () => {
      const found = await auditRows(system, created.body.id as string)

      return found.length > 0 ? found : undefined
    })
    const [event] = await outboxEvents(system)
    t.equal(rows.length, 1)
    t.equal(rows[0]?.event_id, event?.id, 'the row carries the event id')
    t.equal(rows[0]?.type, 'task.created')

    const trail = await system.request(
      'alice',
      'GET',
      `/api/tasks/${created.body.id as string}/audit`,
    )
    t.equal(trail.status, 200)
    t.same(
      (trail.body.items as { eventId: string }[]).map((i) => i.eventId),
      [event?.id],
    )
  },
)

t.test(
  'pipeline should publish valid CloudEvents that kcat reads, keyed and in order per task',
  async (t) => {
    const kafka = await createTestKafkaBus(t)
    const system = await startTestSystem(t, { bus: kafka.bus })

    const ids: string[] = []
    for (let i = 0; i < 4; i++) {
      const created = await system.request('alice', 'POST', '/api/tasks', { title: `task ${i}` })
      ids.push(created.body.id as string)
    }
    for (const id of ids) {
      await system.request('alice', 'PATCH', `/api/tasks/${id}`, { priority: 'high' })
      await system.request('alice', 'POST', `/api/tasks/${id}/complete`)
    }
    await system.request('alice', 'DELETE', `/api/tasks/${ids[0] ?? ''}`)
    await system.backend.relay.flush()

    const expected = ids.length * 3 + 1
    const topic = `${kafka.prefix}tasks`
    const { stdout } = await run(
      'kcat',
      [
        '-C',
        '-b',
        kafka.brokers.join(','),
        '-t',
        topic,
        '-o',
        'beginning',
        '-c',
        String(expected),
        '-e',
        '-J',
        '-q',
      ],
      {
        timeout: 30_000,
      },
    )
    const messages = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            key: string
            payload: string
            partition: number
            offset: number
            headers?: string[]
          },
      )
    t.equal(messages.length, expected, 'kcat read every event')

    const versions = new Map<string, number[]>()
    const partitions = new Map<string, Set<number>>()
    for (const message of messages.sort(
      (a, b) => a.partition - b.partition || a.offset - b.offset,
    )) {
      const event = validateEvent(JSON.parse(message.payload))
      t.equal(event.specversion, '1.0')
      t.equal(message.key, event.subject, 'keyed by task id')
      t.equal(event.partitionkey, event.subject)
      t.same(message.headers?.slice(0, 2), ['content-type', 'application/cloudevents+json'])
      versions.set(event.subject, [
        ...(versions.get(event.subject) ?? []),
        (event.data as { version: number }).version,
      ])
      partitions.set(
        event.subject,
        (partitions.get(event.subject) ?? new Set()).add(message.partition),
      )
    }
    for (const id of ids) {
      const seen = versions.get(id) ?? []
      t.same(
        seen,
        [...seen].sort((a, b) => a - b),
        `task ${id} events in version order`,
      )
      t.equal(partitions.get(id)?.size, 1, `task ${id} events on one partition`)
    }
    t.same(versions.get(ids[0] ?? ''), [1, 2, 3, 4])
  },
)

t.test(
  'audit role should leave one row for an event delivered twice or twice in a batch',
  async (t) => {
    const kafka = await createTestKafkaBus(t)
    const system = await startTestSystem(t, { bus: kafka.bus, roles: ['audit'] })

    const first = await system.request('alice', 'POST', '/api/tasks', { title: 'once' })
    const second = await system.request('alice', 'POST', '/api/tasks', {
      title: 'twice in a batch',
    })
    await system.backend.relay.flush()
    const [eventA, eventB] = await outboxEvents(system)
    if (eventA === undefined || eventB === undefined) {
      throw new Error('expected two events in the outbox')
    }

    await kafka.bus.publish([eventA])
    await kafka.bus.publish([eventB, eventB])
    const marker = await system.request('alice', 'POST', '/api/tasks', { title: 'marker' })
    await eventually(async () =>
      (await auditRows(system, marker.body.id as string)).length > 0 ? true : undefined,
    )

    t.equal((await auditRows(system, first.body.id as string)).length, 1)
    t.equal((await auditRows(system, second.body.id as string)).length, 1)
    t.equal((await auditRows(system)).length, 3)
  },
)

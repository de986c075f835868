import t from 'tap'

import { EVENT_CATALOGUE, EVENT_TYPES } from '../../src/events/catalogue.js'
import { createEvent } from '../../src/events/cloud-event.js'
import { parseEvent, validateEvent } from '../../src/events/event-validator.js'

const task = {
  id: '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  userId: 'u1',
  title: 'A task',
  description: '',
  priority: 'medium' as const,
  tags: [],
  status: 'open' as const,
  dueAt: null,
  timeZone: 'UTC',
  reminderOffsetMinutes: null,
  recurrence: null,
  seriesId: null,
  seriesAnchor: null,
  occurrence: null,
  completedAt: null,
  version: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
}

t.test('event validator should accept a well-formed task event', async (t) => {
  const event = createEvent(
    'task.created',
    { task, version: 1, userId: 'u1' },
    { source: '/test', key: task.id },
  )
  t.equal(validateEvent(event), event)
  t.equal(parseEvent(Buffer.from(JSON.stringify(event))).id, event.id)
  t.equal(event.partitionkey, task.id)
  t.equal(event.subject, task.id)
})

t.test('event validator should say what is wrong with a bad event', async (t) => {
  const event = createEvent(
    'task.created',
    { task, version: 1, userId: 'u1' },
    { source: '/test', key: task.id },
  )
  t.throws(() => validateEvent({ ...event, specversion: '0.3' }), {
    code: 'EVT_INVALID',
    message: /specversion/,
  })
  t.throws(() => validateEvent({ ...event, type: 'task.exploded' }), {
    message: 'unknown event type: task.exploded',
  })
  t.throws(
    () => validateEvent({ ...event, data: { ...event.data, task: { ...task, priority: 'huge' } } }),
    {
      message: /invalid task.created data: data\/task\/priority/,
    },
  )
  t.throws(() => parseEvent('{'), { message: 'message body is not json' })
  t.throws(() => parseEvent(null), { message: 'message has no body' })
})

t.test(
  'event catalogue should put task events on tasks and keep the checked-in schemas current',
  async (t) => {
    const { readFile } = await import('node:fs/promises')
    for (const type of EVENT_TYPES) {
      const file = new URL(`../../src/events/schemas/${type}.schema.json`, import.meta.url)
      const {
        $schema: _draft,
        title: _title,
        ...stored
      } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
      t.same(
        stored,
        JSON.parse(JSON.stringify(EVENT_CATALOGUE[type].schema)),
        `${type}: run npm run schemas`,
      )
    }
    t.same(
      EVENT_TYPES.filter((type) => EVENT_CATALOGUE[type].topic === 'tasks'),
      ['task.created', 'task.updated', 'task.deleted', 'task.completed'],
    )
  },
)

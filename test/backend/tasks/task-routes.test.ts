import t from 'tap'

import type { InProcessEventBus } from '../../../src/events/in-process/in-process-event-bus.js'
import { startTestSystem, type TestSystem } from '../../helpers/test-system.js'

async function counts(system: TestSystem) {
  const { db } = system.database
  const tasks = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  const outbox = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  await system.backend.relay.flush()

  return {
    tasks: Number(tasks.n),
    outbox: Number(outbox.n),
    published: (system.bus as InProcessEventBus).read('tasks').length,
  }
}

t.test('task routes should create, read, update, complete and delete a task', async (t) => {
  const system = await startTestSystem(t)
  const created = await system.request('alice', 'POST', '/api/tasks', {
    title: '  Buy milk ',
    priority: 'high',
    tags: ['home', 'errand'],
    dueAt: '2026-03-08T02:30',
    timeZone: 'America/New_York',
    reminderOffsetMinutes: 30,
  })
  t.equal(created.status, 201)
  t.equal(created.body.title, 'Buy milk')
  t.equal(
    created.body.dueAt,
    '2026-03-08T07:30:00.000Z',
    'a wall time in the spring-forward gap shifts forward',
  )
  t.equal(created.body.version, 1)
  t.equal(created.headers.get('etag'), '"1"')
  const id = created.body.id as string

  const read = await system.request('alice', 'GET', `/api/tasks/${id}`)
  t.same(read.body, created.body)

  const stale = await system.request(
    'alice',
    'PATCH',
    `/api/tasks/${id}`,
    { title: 'x' },
    { 'if-match': '"7"' },
  )
  t.equal(stale.status, 412)
  t.equal(stale.body.code, 'API_VERSION_MISMATCH')

  const updated = await system.request(
    'alice',
    'PATCH',
    `/api/tasks/${id}`,
    { priority: 'urgent' },
    { 'if-match': '"1"' },
  )
  t.equal(updated.status, 200)
  t.equal(updated.body.priority, 'urgent')
  t.equal(updated.body.version, 2)

  const completed = await system.request('alice', 'POST', `/api/tasks/${id}/complete`)
  t.equal(completed.body.status, 'completed')
  t.equal(completed.body.version, 3)
  const again = await system.request('alice', 'POST', `/api/tasks/${id}/complete`)
  t.equal(again.body.version, 3, 'completing twice changes nothing')

  const deleted = await system.request('alice', 'DELETE', `/api/tasks/${id}`)
  t.equal(deleted.status, 204)
  t.equal((await system.request('alice', 'GET', `/api/tasks/${id}`)).status, 404)

  await system.backend.relay.flush()
  const published = (system.bus as InProcessEventBus)
    .read('tasks')
    .map((r) => JSON.parse(r.body) as { type: string; data: { version: number } })
  t.same(
    published.map((e) => [e.type, e.data.version]),
    [
      ['task.created', 1],
      ['task.updated', 2],
      ['task.completed', 3],
      ['task.deleted', 4],
    ],
  )
})

t.test('task list should filter, search, sort and page', async (t) => {
  const system = await startTestSystem(t)
  const make = (title: string, extra: Record<string, unknown>) =>
    system
      .request('bob', 'POST', '/api/tasks', { title, ...extra })
      .then((r) => r.body as { id: string })
  await make('Write report', {
    priority: 'high',
    tags: ['work'],
    dueAt: '2026-05-01T09:00:00Z',
    description: 'quarterly numbers',
  })
  await make('Call plumber', { priority: 'urgent', tags: ['home'], dueAt: '2026-04-01T09:00:00Z' })
  await make('Read book', { priority: 'low', tags: ['home', 'fun'] })
  const done = await make('Pay rent', { priority: 'medium', dueAt: '2026-03-01T09:00:00Z' })
  await system.request('bob', 'POST', `/api/tasks/${done.id}/complete`)

  const titles = async (query: string) =>
    (
      (await system.request('bob', 'GET', `/api/tasks?${query}`)).body.items as { title: string }[]
    ).map((x) => x.title)

  t.same(await titles('tag=home&sort=title'), ['Call plumber', 'Read book'])
  const listed = (await system.request('bob', 'GET', '/api/tasks?limit=1')).body.items[0]
  t.equal(listed.nextOccurrenceAt, null, 'list items carry nextOccurrenceAt as single tasks do')
  t.same(await titles('status=completed'), ['Pay rent'])
  t.same(await titles('priority=urgent'), ['Call plumber'])
  t.same(await titles('q=QUARTERLY'), ['Write report'], 'search reads descriptions, ignoring case')
  t.same(await titles('q=100%25'), [], 'a percent sign is a literal, not a wildcard')
  t.same(
    await titles('sort=dueAt'),
    ['Pay rent', 'Call plumber', 'Write report', 'Read book'],
    'no due date sorts last',
  )
  t.same(await titles('sort=dueAt&order=desc'), [
    'Write report',
    'Call plumber',
    'Pay rent',
    'Read book',
  ])
  t.same(await titles('sort=priority'), ['Call plumber', 'Write report', 'Pay rent', 'Read book'])
  t.same(await titles('dueBefore=2026-04-15T00:00:00Z&sort=dueAt'), ['Pay rent', 'Call plumber'])
  t.same(await titles('dueAfter=2026-04-15T00:00:00Z'), ['Write report'])
  t.same(await titles('dueAfter=2026-04-15T00:00Z'), ['Write report'], 'written as dueAt may be')

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const query: string = `sort=title&limit=1${cursor === null ? '' : `&cursor=${cursor}`}`
    const page = await system.request('bob', 'GET', `/api/tasks?${query}`)
    seen.push(...(page.body.items as { title: string }[]).map((x) => x.title))
    cursor = page.body.nextCursor as string | null
  } while (cursor !== null)
  t.same(
    seen,
    ['Call plumber', 'Pay rent', 'Read book', 'Write report'],
    'pages cover every task once',
  )

  const wrongSort = await system.request('bob', 'GET', `/api/tasks?sort=title&limit=1`)
  const mismatched = await system.request(
    'bob',
    'GET',
    `/api/tasks?sort=dueAt&cursor=${wrongSort.body.nextCursor as string}`,
  )
  t.equal(mismatched.status, 400)
  t.equal(mismatched.body.code, 'API_INVALID_CURSOR')
})

t.test(
  'task routes should refuse bad input with a problem answer and change nothing',
  async (t) => {
    const system = await startTestSystem(t)
    const cases: [string, unknown, number, string?][] = [
      ['unknown field', { title: 'a', colour: 'red' }, 400, 'unknown field: colour'],
      ['wrong type', { title: 'a', priority: 3 }, 400],
      [
        'reminder as a string',
        { title: 'a', dueAt: '2026-01-01T00:00:00Z', reminderOffsetMinutes: '30' },
        400,
      ],
      ['empty title', { title: '' }, 400],
      ['blank title', { title: '   ' }, 400],
      ['10,000-character title', { title: 'x'.repeat(10_000) }, 400],
      ['missing title', { priority: 'low' }, 400],
      ['bad time zone', { title: 'a', timeZone: 'Mars/Base' }, 400, 'unknown time zone: Mars/Base'],
      ['bad due date', { title: 'a', dueAt: 'next tuesday' }, 400],
      ['reminder without due date', { title: 'a', reminderOffsetMinutes: 10 }, 400],
      ['unknown priority', { title: 'a', priority: 'critical' }, 400],
      ['malformed json', '{"title": "a",', 400],
      ['an array body', '[1,2]', 400],
      ['oversized body', { title: 'a', description: 'y'.repeat(70_000) }, 413],
      ['a NUL character', '{"title": "a\\u0000b"}', 400, 'body/title contains a NUL character'],
      ['an unpaired surrogate', '{"title": "a\\ud800b"}', 400, 'unpaired surrogate'],
    ]

    for (const [name, body, status, detail] of cases) {
      const response = await system.request('carol', 'POST', '/api/tasks', body)
      t.equal(response.status, status, `${name}: status`)
      t.match(
        response.headers.get('content-type'),
        /^application\/problem\+json/,
        `${name}: problem content type`,
      )
      t.type(response.body.detail, 'string', `${name}: says what is wrong`)
      if (detail !== undefined) {
        t.match(response.body.detail, detail, `${name}: detail`)
      }
    }

    const unauthenticated = await system.request(null, 'POST', '/api/tasks', { title: 'a' })
    t.equal(unauthenticated.status, 401)
    t.equal(unauthenticated.headers.get('www-authenticate'), 'Bearer')
    const badToken = await system.request(null, 'GET', '/api/tasks', undefined, {
      authorization: 'Bearer nope',
    })
    t.equal(badToken.status, 401)

    t.same(
      await counts(system),
      { tasks: 0, outbox: 0, published: 0 },
      'nothing stored, nothing published',
    )

    const created = await system.request('carol', 'POST', '/api/tasks', { title: 'ok' })
    const id = created.body.id as string
    const badPatches: [unknown, number][] = [
      [{}, 400],
      [{ title: '' }, 400],
      [{ nonsense: true }, 400],
      [{ reminderOffsetMinutes: 5 }, 400],
    ]
    for (const [body, status] of badPatches) {
      const response = await system.request('carol', 'PATCH', `/api/tasks/${id}`, body)
      t.equal(response.status, status, `patch ${JSON.stringify(body)}`)
    }
    t.equal((await system.request('carol', 'GET', '/api/tasks/not-a-uuid')).status, 400)
    t.equal(
      (await system.request('carol', 'GET', '/api/tasks?q=%00')).status,
      400,
      'NUL in a query',
    )
    const forged = Buffer.from(
      JSON.stringify({
        s: 'dueAt',
        o: 'asc',
        v: 'garbage',
        id: '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
      }),
    ).toString('base64url')
    const tampered = await system.request('carol', 'GET', `/api/tasks?sort=dueAt&cursor=${forged}`)
    t.equal(tampered.status, 400, 'an edited cursor is the client mistake')
    t.equal(tampered.body.code, 'API_INVALID_CURSOR')
    const weak = await system.request(
      'carol',
      'PATCH',
      `/api/tasks/${id}`,
      { title: 'w' },
      { 'if-match': 'W/"1"' },
    )
    t.equal(weak.status, 412, 'a weak tag never matches')
    const huge = await system.request(
      'carol',
      'PATCH',
      `/api/tasks/${id}`,
      { title: 'w' },
      { 'if-match': '"99999999999999999999"' },
    )
    t.equal(huge.status, 400)
    t.same(
      await counts(system),
      { tasks: 1, outbox: 1, published: 1 },
      'only the valid create changed anything',
    )

    const any = await system.request(
      'carol',
      'PATCH',
      `/api/tasks/${id}`,
      { timeZone: 'europe/madrid' },
      { 'if-match': '*' },
    )
    t.equal(any.status, 200, 'If-Match: * matches any version')
    t.equal(any.body.timeZone, 'Europe/Madrid', 'the zone is stored as IANA spells it')
  },
)

t.test('task routes should keep users apart', async (t) => {
  const system = await startTestSystem(t, { roles: ['audit'] })
  const created = await system.request('alice', 'POST', '/api/tasks', { title: 'secret plan' })
  const id = created.body.id as string
  const paths: [string, string, unknown?][] = [
    ['GET', `/api/tasks/${id}`],
    ['PATCH', `/api/tasks/${id}`, { title: 'mine now' }],
    ['POST', `/api/tasks/${id}/complete`],
    ['DELETE', `/api/tasks/${id}`],
    ['GET', `/api/tasks/${id}/audit`],
  ]
  for (const [method, path, body] of paths) {
    const response = await system.request('mallory', method, path, body)
    t.equal(response.status, 404, `${method} ${path} as another user`)
  }
  t.same((await system.request('mallory', 'GET', '/api/tasks')).body.items, [])

  const own = await system.request('alice', 'GET', `/api/tasks/${id}`)
  t.equal(own.body.title, 'secret plan')
  t.equal(own.body.version, 1, 'nothing the other user did changed the task')
})

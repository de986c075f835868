import { encode, encodeChat } from 'gpt-tokenizer/encoding/o200k_base'
import t from 'tap'

import { MESSAGE_CONTENT_MAX } from '../../../src/backend/conversations/conversation-schemas.js'
import {
  startConversationApp,
  type ConversationTestApp,
} from '../../helpers/conversation-test-app.js'

/** A message text of exactly `tokens` o200k_base tokens, checked with gpt-tokenizer itself. */
function textOfTokens(label: string, tokens: number): string {
  // Each ' hello' after the label is one more token.
  const prefix = `Message ${label}:`
  const text = prefix + ' hello'.repeat(tokens - encode(prefix).length)
  if (encode(text).length !== tokens) {
    throw new Error(`could not build a text of ${tokens} tokens for ${label}`)
  }

  return text
}

async function post(
  app: ConversationTestApp,
  userId: string,
  content: string,
  extra: Record<string, unknown> = {},
) {
  const response = await app.request(userId, 'POST', '/api/conversations/messages', {
    role: 'user',
    content,
    ...extra,
  })
  if (response.status !== 201) {
    throw new Error(`append failed: ${response.status} ${JSON.stringify(response.body)}`)
  }

  return response.body as { id: string; sessionId: string; tokenCount: number; newSession: boolean }
}

async function context(app: ConversationTestApp, userId: string) {
  const response = await app.request(userId, 'GET', '/api/conversations/context')

  return response.body as {
    messages: { role: 'system' | 'user' | 'assistant' | 'tool'; content: string }[]
    metadata: {
      sessionId: string | null
      totalTokens: number
      overBudget: boolean
      it: { id: string; title: string; status: string; deleted: boolean } | null
      tasks: { id: string; title: string; status: string; deleted: boolean }[]
    }
  }
}

t.test(
  'conversation context should hold the most recent 13 of 25 messages of 300 tokens',
  async (t) => {
    const app = await startConversationApp(t)
    const texts = Array.from({ length: 25 }, (_, i) => textOfTokens(String(i + 1), 300))
    for (const [i, text] of texts.entries()) {
      app.setTime(`2026-03-02T10:00:${String(i).padStart(2, '0')}.000Z`)
      t.equal((await post(app, 'ada', text)).tokenCount, 300)
    }

    const { messages, metadata } = await context(app, 'ada')
    t.equal(messages[0]?.role, 'system')
    t.same(
      messages.slice(1).map((m) => m.content),
      texts.slice(12),
      'messages 13 to 25, oldest first',
    )
    t.ok(metadata.totalTokens <= 4_000, `${metadata.totalTokens} tokens`)
    t.notOk(metadata.overBudget)
    t.equal(metadata.totalTokens, encodeChat(messages, 'gpt-4o').length, 'the prompt as encoded')
    // Each message costs 304 with its framing: a 14th (4,256 with the rest) cannot fit.
    t.ok(metadata.totalTokens + 304 > 4_000)
  },
)

t.test(
  'conversation context should hold the most recent 20 of 30 messages of 10 tokens',
  async (t) => {
    const app = await startConversationApp(t)
    const texts = Array.from({ length: 30 }, (_, i) => textOfTokens(String(i + 1), 10))
    for (const text of texts) {
      t.equal((await post(app, 'ada', text)).tokenCount, 10)
    }

    const { messages, metadata } = await context(app, 'ada')
    t.same(
      messages.slice(1).map((m) => m.content),
      texts.slice(10),
    )
    t.notOk(metadata.overBudget)
  },
)

t.test('conversation context should return a 5,000-token message alone, over budget', async (t) => {
  const app = await startConversationApp(t)
  const huge = textOfTokens('huge', 5_000)
  t.equal((await post(app, 'ada', huge)).tokenCount, 5_000)

  const alone = await context(app, 'ada')
  t.same(
    alone.messages.map((m) => m.content),
    [alone.messages[0]?.content, huge],
  )
  t.ok(alone.metadata.overBudget)
  t.ok(alone.metadata.totalTokens > 4_000)

  // After smaller messages it is still the newest message that is kept, and only it.
  const other = await startConversationApp(t)
  await post(other, 'bea', 'hello there')
  await post(other, 'bea', huge)
  const newest = await context(other, 'bea')
  t.same(
    newest.messages.slice(1).map((m) => m.content),
    [huge],
  )
  t.ok(newest.metadata.overBudget)
})

t.test(
  'conversation sessions should end more than 30 minutes after the last activity',
  async (t) => {
    const app = await startConversationApp(t)

    app.setTime('2026-03-02T10:00:00.000Z')
    const first = await post(app, 'ada', 'at ten')
    t.ok(first.newSession)
    app.setTime('2026-03-02T10:30:00.000Z')
    const onTheDot = await post(app, 'ada', 'thirty minutes later')
    t.equal(onTheDot.sessionId, first.sessionId, 'exactly 30:00 later is the same session')
    t.notOk(onTheDot.newSession)

    app.setTime('2026-03-02T10:00:00.000Z')
    const before = await post(app, 'bea', 'at ten')
    app.setTime('2026-03-02T10:30:01.000Z')
    const after = await post(app, 'bea', 'thirty minutes and a second later')
    t.not(after.sessionId, before.sessionId, '30:01 later starts a new session')
    t.ok(after.newSession)

    const { messages, metadata } = await context(app, 'bea')
    t.equal(metadata.sessionId, after.sessionId)
    t.same(
      messages.slice(1).map((m) => m.content),
      ['thirty minutes and a second later'],
      'only the new session',
    )

    const sessions = (await app.request('bea', 'GET', '/api/conversations')).body.items as {
      id: string
      endedAt: string | null
    }[]
    t.same(
      sessions.map((s) => [s.id, s.endedAt]),
      [
        [after.sessionId, null],
        [before.sessionId, '2026-03-02T10:00:00.000Z'],
      ],
      'newest first; the old session ended at its last activity',
    )

    // The timeout runs from the last activity, not from the start.
    app.setTime('2026-03-02T11:00:00.000Z')
    t.equal((await post(app, 'ada', 'at eleven')).sessionId, first.sessionId)
    app.setTime('2026-03-02T11:30:01.000Z')
    t.not((await post(app, 'ada', 'later')).sessionId, first.sessionId)
  },
)

t.test('conversation context should show referenced tasks as they are now', async (t) => {
  const app = await startConversationApp(t)
  const create = async (title: string, extra: Record<string, unknown> = {}) =>
    (await app.request('ada', 'POST', '/api/tasks', { title, ...extra })).body as { id: string }
  const a = await create('Dentist', {
    priority: 'high',
    dueAt: '2026-03-06T15:00:00Z',
    tags: ['health'],
  })
  const b = await create('Buy milk', { tags: ['home'] })
  await post(app, 'ada', 'remind me about the dentist on Friday', {
    taskRefs: [{ taskId: a.id, kind: 'created' }],
  })
  await post(app, 'ada', 'and buy milk', { taskRefs: [{ taskId: b.id, kind: 'mentioned' }] })

  const system = (c: Awaited<ReturnType<typeof context>>) =>
    (c.messages[0]?.content ?? '')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)

  const before = await context(app, 'ada')
  t.match(system(before), [
    {
      id: a.id,
      title: 'Dentist',
      status: 'open',
      priority: 'high',
      dueAt: '2026-03-06T15:00:00.000Z',
      tags: ['health'],
      deleted: false,
    },
    {
      id: b.id,
      title: 'Buy milk',
      status: 'open',
      priority: 'medium',
      dueAt: null,
      tags: ['home'],
    },
  ])
  t.equal(before.metadata.it?.id, b.id, '"it" is the task referenced last')
  t.match(before.messages[0]?.content, /"it" means the last task listed above\.$/)

  t.equal((await app.request('ada', 'POST', `/api/tasks/${b.id}/complete`)).status, 200)
  await app.request('ada', 'PATCH', `/api/tasks/${a.id}`, { title: 'Dentist (moved)' })
  const after = await context(app, 'ada')
  t.match(system(after), [
    { id: a.id, title: 'Dentist (moved)', status: 'open' },
    { id: b.id, title: 'Buy milk', status: 'completed' },
  ])
  t.equal(after.metadata.it?.status, 'completed')

  // Deleting a task keeps the history readable and marks the reference deleted.
  t.equal((await app.request('ada', 'DELETE', `/api/tasks/${a.id}`)).status, 204)
  const deleted = await context(app, 'ada')
  t.match(system(deleted)[0], { id: a.id, deleted: true })
  const history = await app.request(
    'ada',
    'GET',
    `/api/conversations/${deleted.metadata.sessionId}/messages`,
  )
  t.equal(history.status, 200)
  t.same(history.body.items[0].taskRefs, [{ taskId: a.id, kind: 'created' }])
})

t.test('conversation messages should carry the tokenizer count of their content', async (t) => {
  const app = await startConversationApp(t)
  const texts: [string, number | undefined][] = [
    ['hello world', 2],
    ['こんにちは世界', 2],
    ['Привет, мир', 4],
    ['🎉🎉', 4],
    ['👩‍👩‍👧‍👦', 11],
    ['你好，世界', undefined],
    ['مرحبا بالعالم', undefined],
    ['Rappel: réunion à 10h — 会議 — встреча 📅', undefined],
  ]
  for (const [text, known] of texts) {
    const message = await post(app, 'ada', text)
    t.equal(message.tokenCount, encode(text).length, text)
    if (known !== undefined) {
      t.equal(message.tokenCount, known, `${text}: fixed count`)
    }
  }

  const special = await post(app, 'ada', 'say <|endoftext|> twice')
  t.equal(
    special.tokenCount,
    encode('say <|endoftext|> twice', { disallowedSpecial: new Set() }).length,
  )
})

t.test('conversation routes should keep users apart', async (t) => {
  const app = await startConversationApp(t)
  const task = (await app.request('ada', 'POST', '/api/tasks', { title: 'secret plan' })).body as {
    id: string
  }
  const message = await post(app, 'ada', 'about my plan', {
    taskRefs: [{ taskId: task.id, kind: 'mentioned' }],
  })

  const foreign = await app.request(
    'eve',
    'GET',
    `/api/conversations/${message.sessionId}/messages`,
  )
  t.equal(foreign.status, 404)
  t.equal(foreign.body.code, 'API_CONVERSATION_NOT_FOUND')
  t.same((await app.request('eve', 'GET', '/api/conversations')).body.items, [])
  const eveContext = await context(app, 'eve')
  t.equal(eveContext.metadata.sessionId, null)
  t.same(eveContext.messages.length, 1, 'the system message only')

  const stolen = await app.request('eve', 'POST', '/api/conversations/messages', {
    role: 'user',
    content: 'mark it done',
    taskRefs: [{ taskId: task.id, kind: 'updated' }],
  })
  t.equal(stolen.status, 400)
  t.match(stolen.body.detail, task.id, 'names the task')
  t.same(await app.counts(), { sessions: 1, messages: 1 })
})

t.test(
  'conversation routes should refuse bad input with a problem and store nothing',
  async (t) => {
    const app = await startConversationApp(t)
    const unknownTask = '0b7e2a4c-5d1f-4e8a-9c3b-2f6d8e1a7b90'
    const cases: [string, unknown, number, string?][] = [
      ['empty content', { role: 'user', content: '' }, 400],
      ['blank content', { role: 'user', content: ' \n\t ' }, 400],
      ['missing content', { role: 'user' }, 400],
      ['content not a string', { role: 'user', content: 42 }, 400],
      ['unknown role', { role: 'moderator', content: 'hi' }, 400],
      ['missing role', { content: 'hi' }, 400],
      [
        `content over ${MESSAGE_CONTENT_MAX} characters`,
        { role: 'user', content: 'x'.repeat(MESSAGE_CONTENT_MAX + 1) },
        400,
      ],
      [
        'a client token count',
        { role: 'user', content: 'hi', tokenCount: 1 },
        400,
        'unknown field: tokenCount',
      ],
      ['another unknown field', { role: 'user', content: 'hi', sessionId: unknownTask }, 400],
      [
        'an unknown task',
        { role: 'user', content: 'hi', taskRefs: [{ taskId: unknownTask, kind: 'mentioned' }] },
        400,
        `task not found: ${unknownTask}`,
      ],
      [
        'a task id that is no uuid',
        { role: 'user', content: 'hi', taskRefs: [{ taskId: 'x', kind: 'mentioned' }] },
        400,
      ],
      [
        'an unknown reference kind',
        { role: 'user', content: 'hi', taskRefs: [{ taskId: unknownTask, kind: 'deleted' }] },
        400,
      ],
      [
        'too many references',
        {
          role: 'user',
          content: 'hi',
          taskRefs: Array.from({ length: 51 }, () => ({ taskId: unknownTask, kind: 'mentioned' })),
        },
        400,
      ],
      ['malformed json', '{"role": "user",', 400],
    ]

    for (const [name, body, status, detail] of cases) {
      const response = await app.request('ada', 'POST', '/api/conversations/messages', body)
      t.equal(response.status, status, `${name}: status`)
      t.match(response.headers['content-type'], /^application\/problem\+json/, `${name}: problem`)
      if (detail !== undefined) {
        t.match(response.body.detail, detail, `${name}: detail`)
      }
    }

    t.equal((await app.request('ada', 'GET', '/api/conversations/not-a-uuid/messages')).status, 400)
    t.equal((await app.request('ada', 'GET', '/api/conversations?cursor=nonsense')).status, 400)
    t.equal((await app.request('ada', 'GET', '/api/conversations?limit=0')).status, 400)
    t.same(await app.counts(), { sessions: 0, messages: 0 }, 'nothing stored')
  },
)

t.test('conversation routes should accept the longest content in any script', async (t) => {
  const app = await startConversationApp(t)
  // 32,000 emoji are 128 KB of UTF-8: the content limit, not the body limit, is what applies.
  const emoji = '😀'.repeat(MESSAGE_CONTENT_MAX)
  const message = await post(app, 'ada', emoji)
  t.equal(message.tokenCount, MESSAGE_CONTENT_MAX, 'each 😀 is one o200k_base token')
  const cjk = '会議の準備をする。'.repeat(Math.floor(MESSAGE_CONTENT_MAX / 9))
  t.equal((await post(app, 'ada', cjk)).tokenCount, encode(cjk).length, 'about 96 KB of Japanese')
})

t.test('conversation sessions should not split when messages arrive at once', async (t) => {
  const app = await startConversationApp(t)
  const burst = async (from: number) =>
    Promise.all(Array.from({ length: 10 }, (_, i) => post(app, 'ada', `message ${from + i}`)))

  app.setTime('2026-03-02T10:00:00.000Z')
  const first = await burst(0)
  t.equal(new Set(first.map((m) => m.sessionId)).size, 1, 'one session for ten messages at once')
  t.equal(first.filter((m) => m.newSession).length, 1)

  app.setTime('2026-03-02T11:00:00.000Z')
  const second = await burst(10)
  t.equal(new Set(second.map((m) => m.sessionId)).size, 1, 'one new session after the timeout')
  t.not(second[0]?.sessionId, first[0]?.sessionId)
  t.same(await app.counts(), { sessions: 2, messages: 20 })
})

t.test('conversation routes should page through sessions and messages', async (t) => {
  const app = await startConversationApp(t)
  const sessions: string[] = []
  for (let hour = 10; hour < 15; hour += 1) {
    app.setTime(`2026-03-02T${hour}:00:00.000Z`)
    sessions.push((await post(app, 'ada', `session at ${hour}`)).sessionId)
    await post(app, 'ada', `second message at ${hour}`)
    await post(app, 'ada', `third message at ${hour}`)
  }

  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { body: { items: { id: string }[]; nextCursor: string | null } } =
      await app.request(
        'ada',
        'GET',
        `/api/conversations?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      )
    seen.push(...page.body.items.map((s) => s.id))
    cursor = page.body.nextCursor
  } while (cursor !== null)
  t.same(seen, [...sessions].reverse(), 'every session once, newest first')

  const read = async (order: 'asc' | 'desc') => {
    const contents: string[] = []
    let next: string | null = null
    do {
      const query = `limit=2&order=${order}${next === null ? '' : `&cursor=${next}`}`
      const page = await app.request(
        'ada',
        'GET',
        `/api/conversations/${sessions[0]}/messages?${query}`,
      )
      contents.push(...(page.body.items as { content: string }[]).map((m) => m.content))
      next = page.body.nextCursor as string | null
    } while (next !== null)

    return contents
  }
  const oldestFirst = ['session at 10', 'second message at 10', 'third message at 10']
  t.same(await read('asc'), oldestFirst)
  t.same(await read('desc'), [...oldestFirst].reverse())

  const ascCursor = (
    await app.request('ada', 'GET', `/api/conversations/${sessions[0]}/messages?limit=1`)
  ).body.nextCursor as string
  const mixed = await app.request(
    'ada',
    'GET',
    `/api/conversations/${sessions[0]}/messages?order=desc&cursor=${ascCursor}`,
  )
  t.equal(mixed.status, 400)
  t.equal(mixed.body.code, 'API_INVALID_CURSOR')
})

t.test('conversation settings should come from the configuration', async (t) => {
  const app = await startConversationApp(t, {
    sessionTimeoutMinutes: 5,
    contextMaxMessages: 3,
    contextMaxTokens: 200,
  })
  app.setTime('2026-03-02T10:00:00.000Z')
  const first = await post(app, 'ada', 'one')
  app.setTime('2026-03-02T10:05:01.000Z')
  t.not((await post(app, 'ada', 'two')).sessionId, first.sessionId, 'a 5-minute timeout')
  for (const word of ['three', 'four', 'five']) {
    await post(app, 'ada', word)
  }
  const { messages } = await context(app, 'ada')
  t.same(
    messages.slice(1).map((m) => m.content),
    ['three', 'four', 'five'],
    'at most 3 messages',
  )

  const tight = await startConversationApp(t, { contextMaxTokens: 100 })
  await post(tight, 'bea', textOfTokens('a', 40))
  await post(tight, 'bea', textOfTokens('b', 40))
  const window = await context(tight, 'bea')
  t.equal(window.messages.length, 2, 'a 100-token budget holds the system message and one message')
  t.ok(window.metadata.totalTokens <= 100)
})

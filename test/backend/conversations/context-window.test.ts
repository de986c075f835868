import t from 'tap'

import { selectContextWindow } from '../../../src/backend/conversations/context-window.js'

interface Message {
  id: number
  tokens: number
  tasks?: string[]
}

// Costs shaped like the real ones: 4 framing tokens a message, 3 to prime the reply, and a
// system message of 10 tokens plus 50 for every distinct task the window refers to.
const costs = {
  messageTokens: (m: Message) => m.tokens + 4,
  systemMessage: (window: readonly Message[]) => {
    const tasks = new Set(window.flatMap((m) => m.tasks ?? []))

    return { tokens: 4 + 10 + 50 * tasks.size, tasks: [...tasks] }
  },
  replyPrimingTokens: 3,
}
const budget = { maxMessages: 20, maxTokens: 4_000 }
const messages = (count: number, tokens: number): Message[] =>
  Array.from({ length: count }, (_, id) => ({ id, tokens }))
const ids = (window: { messages: Message[] }) => window.messages.map((m) => m.id)

t.test('context window should keep the newest messages that fit, oldest first', (t) => {
  const window = selectContextWindow(messages(25, 300), budget, costs)
  t.same(ids(window), [12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24])
  t.equal(window.totalTokens, 14 + 13 * 304 + 3)
  t.notOk(window.overBudget)
  t.end()
})

t.test('context window should stop at the message limit', (t) => {
  const window = selectContextWindow(messages(30, 10), budget, costs)
  t.same(
    ids(window),
    Array.from({ length: 20 }, (_, i) => i + 10),
  )
  t.end()
})

t.test('context window should keep the newest message alone when it exceeds the budget', (t) => {
  const window = selectContextWindow([...messages(3, 10), { id: 3, tokens: 5_000 }], budget, costs)
  t.same(ids(window), [3])
  t.ok(window.overBudget)
  t.equal(window.totalTokens, 14 + 5_004 + 3)
  t.end()
})

t.test('context window should fit exactly at the budget and not a token over', (t) => {
  // 14 + 3 + 2 × (x + 4) = 4,000 when x = 1,987.5: one message of 1,987 and one of 1,988.
  const exact = selectContextWindow(
    [
      { id: 0, tokens: 1_987 },
      { id: 1, tokens: 1_988 },
    ],
    budget,
    costs,
  )
  t.same(ids(exact), [0, 1])
  t.equal(exact.totalTokens, 4_000)
  const over = selectContextWindow(
    [
      { id: 0, tokens: 1_988 },
      { id: 1, tokens: 1_988 },
    ],
    budget,
    costs,
  )
  t.same(ids(over), [1])
  t.end()
})

t.test('context window should rebuild the system message for the window it keeps', (t) => {
  // Messages alone fit (3 × 1,204 + 3 = 3,615), but the oldest refers to 8 tasks (400 tokens
  // of system message): with it the total is 4,029, so it goes, and its tasks with it.
  const heavy = { id: 0, tokens: 1_200, tasks: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'] }
  const window = selectContextWindow(
    [heavy, { id: 1, tokens: 1_200, tasks: ['a'] }, { id: 2, tokens: 1_200 }],
    budget,
    costs,
  )
  t.same(ids(window), [1, 2])
  t.same(window.system.tasks, ['a'], 'only the tasks of the messages kept')
  t.equal(window.totalTokens, 64 + 2 * 1_204 + 3)
  t.end()
})

t.test('context window should be the system message alone for an empty session', (t) => {
  const window = selectContextWindow([], budget, costs)
  t.same(window.messages, [])
  t.equal(window.totalTokens, 17)
  t.notOk(window.overBudget)
  t.end()
})

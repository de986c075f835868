import cl100k from 'gpt-tokenizer/encoding/cl100k_base'
import { encode, encodeChat } from 'gpt-tokenizer/encoding/o200k_base'
import t from 'tap'

import { LONG_PIECE_CHARS, loadTokenizer } from '../../../src/shared/tokens/tokenizer.js'

const KNOWN: [string, string][] = [
  ['english', 'Move the dentist appointment to Friday at 3pm, please.'],
  ['japanese', 'こんにちは世界'],
  ['russian', 'Привет, мир'],
  ['chinese', '你好，世界'],
  ['arabic', 'مرحبا بالعالم'],
  ['emoji', 'Buy milk 🥛 and bread 🍞 🎉🎉'],
  ['family emoji (zero-width joiners)', '👩‍👩‍👧‍👦'],
  ['mixed scripts', 'Rappel: réunion à 10h — 会議 — встреча 📅'],
]

t.test('tokenizer should count exactly what gpt-tokenizer encodes, in any script', async (t) => {
  const tokenizer = await loadTokenizer('o200k_base')
  for (const [name, text] of KNOWN) {
    t.equal(tokenizer.count(text), encode(text).length, name)
  }

  // Fixed counts, so a change of tokenizer or encoding cannot pass unnoticed.
  t.equal(tokenizer.count('hello world'), 2)
  t.equal(tokenizer.count('こんにちは世界'), 2)
  t.equal(tokenizer.count('Привет, мир'), 4)
  t.equal(tokenizer.count('🎉🎉'), 4)
  t.equal(tokenizer.count('👩‍👩‍👧‍👦'), 11)
  t.equal(tokenizer.count(''), 0)
})

t.test('tokenizer should count special-token strings in content as plain text', async (t) => {
  const tokenizer = await loadTokenizer()
  const text = 'a <|endoftext|> b <|im_start|>system'
  t.throws(() => encode(text), 'gpt-tokenizer refuses them by default')
  t.equal(tokenizer.count(text), encode(text, { disallowedSpecial: new Set() }).length)
  t.ok(tokenizer.count('<|endoftext|>') > 1, 'never the single control token')
})

t.test('tokenizer should price messages as the ChatML prompt gpt-tokenizer encodes', async (t) => {
  const tokenizer = await loadTokenizer()
  const chat = [
    { role: 'system' as const, content: 'Tasks referenced: none.' },
    { role: 'user' as const, content: 'Move it to Friday' },
    { role: 'assistant' as const, content: 'Done: "Dentist" is now due Friday 🦷' },
    { role: 'user' as const, content: 'Спасибо!' },
  ]
  const priced = chat.reduce(
    (sum, m) => sum + tokenizer.messageTokens(m.role, tokenizer.count(m.content)),
    tokenizer.replyPrimingTokens,
  )
  t.equal(priced, encodeChat(chat, 'gpt-4o').length)
  t.equal(tokenizer.messageTokens('user', 10), 14, 'three framing tokens and the role')
  t.equal(tokenizer.replyPrimingTokens, 3)
})

t.test('tokenizer should count long unbroken runs exactly', async (t) => {
  const tokenizer = await loadTokenizer()
  // Long enough to take the heap path, short enough for gpt-tokenizer's quadratic merge.
  const runs = [
    '😀'.repeat(1_500),
    '中文字符测试'.repeat(300),
    'a'.repeat(3_000),
    '_'.repeat(3_000),
  ]
  for (const run of runs) {
    t.ok(run.length > LONG_PIECE_CHARS)
    const text = `before ${run} after`
    t.equal(tokenizer.count(text), encode(text).length, `${run.slice(0, 2)} × ${run.length}`)
  }
})

t.test('tokenizer should use the configured encoding', async (t) => {
  const tokenizer = await loadTokenizer('cl100k_base')
  t.equal(tokenizer.encoding, 'cl100k_base')
  for (const [name, text] of KNOWN) {
    t.equal(tokenizer.count(text), cl100k.encode(text).length, name)
  }
  t.equal(tokenizer.count('こんにちは世界'), 4, 'cl100k_base splits Japanese finer')
})

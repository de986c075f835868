import ranks from 'gpt-tokenizer/bpeRanks/o200k_base'
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base'
import t from 'tap'

import { buildRankTable, countPieceTokens } from '../../../src/shared/tokens/long-piece-bpe.js'

const table = buildRankTable(ranks)
const plain = { disallowedSpecial: new Set<string>() }

t.test('long-piece bpe should merge a piece as gpt-tokenizer does', (t) => {
  // Single pieces of the o200k split pattern: runs of letters, symbols, spaces or emoji.
  const pieces = [
    'hello',
    ' extraordinarily',
    'Привет',
    'こんにちは世界',
    '中文字符测试'.repeat(40),
    '😀'.repeat(500),
    '👩‍👩‍👧‍👦🥛🍞',
    'a'.repeat(2_000),
    'ab'.repeat(700),
    '_'.repeat(1_000),
    '-=-'.repeat(300),
    ' '.repeat(999),
    'é'.repeat(800),
  ]
  for (const piece of pieces) {
    t.equal(
      countPieceTokens(piece, table),
      countTokens(piece, plain),
      `${piece.slice(0, 6)} × ${piece.length}`,
    )
  }
  t.equal(countPieceTokens('', table), 0)
  t.end()
})

t.test('long-piece bpe should agree with gpt-tokenizer on random runs of one script', (t) => {
  // A fixed-seed generator: the same runs every time, many shapes of merge ties.
  let seed = 42
  const random = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31

    return seed / 2 ** 31
  }
  const alphabets = ['abcdefghij', 'ありがとうございます', '😀🎉🥛🍞🦷', 'абвгдеёжз', '_-=+*#']
  for (let i = 0; i < 60; i += 1) {
    const alphabet = [...(alphabets[i % alphabets.length] as string)]
    const length = 50 + Math.floor(random() * 400)
    const piece = Array.from(
      { length },
      () => alphabet[Math.floor(random() * alphabet.length)],
    ).join('')
    t.equal(countPieceTokens(piece, table), countTokens(piece, plain), `run ${i}`)
  }
  t.end()
})

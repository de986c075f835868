// Counts tokens the way the model will: a real BPE tokenizer (gpt-tokenizer), never an estimate
// from characters. Only the configured encoding's ranks are loaded (several MB each).
import type { GptEncoding } from 'gpt-tokenizer/GptEncoding'

import { buildRankTable, countPieceTokens, type RankTable } from './long-piece-bpe.js'

/** Encodings with a ChatML chat format, which the message framing below describes. */
export const TOKENIZER_ENCODINGS = ['o200k_base', 'cl100k_base'] as const
export type TokenizerEncoding = (typeof TOKENIZER_ENCODINGS)[number]

export const DEFAULT_TOKENIZER_ENCODING: TokenizerEncoding = 'o200k_base'

/**
 * Pieces of the split pattern longer than this (UTF-16 units) are merged by long-piece-bpe.ts:
 * gpt-tokenizer's merge is quadratic in a piece's length, and below this it costs under 1 ms.
 */
export const LONG_PIECE_CHARS = 256

// `<|im_start|>`, `<|im_sep|>` and `<|im_end|>` around every message's role and content.
const FRAMING_TOKENS_PER_MESSAGE = 3
// The reply is primed with `<|im_start|>assistant<|im_sep|>`: two special tokens and the role.
const PRIMING_SPECIAL_TOKENS = 2

// Special-token strings a user types ("<|endoftext|>") are ordinary text, not control tokens:
// the tokenizer would otherwise throw, and the API must never let content forge a token.
const AS_PLAIN_TEXT = { disallowedSpecial: new Set<string>() }

export interface Tokenizer {
  readonly encoding: TokenizerEncoding
  /** Tokens in a text, special-token strings counted as plain text. */
  count(text: string): number
  /**
   * What one chat message costs in a prompt: its content tokens plus the ChatML framing, three
   * special tokens and the role's name (4 for every role in o200k_base and cl100k_base).
   */
  messageTokens(role: string, contentTokens: number): number
  /** Tokens that prime the model's reply, counted once per prompt (3). */
  readonly replyPrimingTokens: number
}

interface Encoding {
  api: GptEncoding
  splitPattern: RegExp
  ranks: () => Promise<readonly (string | readonly number[])[]>
}

async function loadEncoding(encoding: TokenizerEncoding): Promise<Encoding> {
  const patterns = await import('gpt-tokenizer/encodingParams/constants')
  switch (encoding) {
    case 'o200k_base':
      return {
        api: (await import('gpt-tokenizer/encoding/o200k_base')).default,
        splitPattern: patterns.O200K_TOKEN_SPLIT_REGEX,
        ranks: async () => (await import('gpt-tokenizer/bpeRanks/o200k_base')).default,
      }
    case 'cl100k_base':
      return {
        api: (await import('gpt-tokenizer/encoding/cl100k_base')).default,
        splitPattern: patterns.CL100K_TOKEN_SPLIT_REGEX,
        ranks: async () => (await import('gpt-tokenizer/bpeRanks/cl100k_base')).default,
      }
  }
}

const loaded = new Map<TokenizerEncoding, Promise<Tokenizer>>()

/** The tokenizer for an encoding, loaded once per process. */
export function loadTokenizer(
  encoding: TokenizerEncoding = DEFAULT_TOKENIZER_ENCODING,
): Promise<Tokenizer> {
  const tokenizer = loaded.get(encoding) ?? createTokenizer(encoding)
  loaded.set(encoding, tokenizer)

  return tokenizer
}

async function createTokenizer(encoding: TokenizerEncoding): Promise<Tokenizer> {
  const { api, splitPattern, ranks } = await loadEncoding(encoding)
  // The byte-keyed table costs ~20 MB; built now so that a long piece never waits for it.
  const table: RankTable = buildRankTable(await ranks())
  const countPiece = (piece: string) =>
    piece.length > LONG_PIECE_CHARS
      ? countPieceTokens(piece, table)
      : api.countTokens(piece, AS_PLAIN_TEXT)

  const count = (text: string) => {
    const pieces = text.match(splitPattern) ?? []
    if (pieces.every((piece) => piece.length <= LONG_PIECE_CHARS)) {
      return text === '' ? 0 : api.countTokens(text, AS_PLAIN_TEXT)
    }

    return pieces.reduce((sum, piece) => sum + countPiece(piece), 0)
  }

  const roleTokens = new Map<string, number>()
  const roleCost = (role: string) => {
    const cached = roleTokens.get(role) ?? count(role)
    roleTokens.set(role, cached)

    return cached
  }

  return {
    encoding,
    count,
    messageTokens: (role, contentTokens) =>
      contentTokens + FRAMING_TOKENS_PER_MESSAGE + roleCost(role),
    replyPrimingTokens: PRIMING_SPECIAL_TOKENS + roleCost('assistant'),
  }
}

// Byte-pair merging for long pieces in O(n log n). gpt-tokenizer rescans every pair after each
// merge, which is quadratic in a piece's length: one run of 32,000 emoji (a piece the split
// pattern never breaks) blocked the event loop for 25 s. Same rule, same result, with a heap:
// merge the lowest-ranked adjacent pair, the leftmost on a tie, until no pair is a token.

/** A token's bytes as a latin1 string (one char per byte) → its rank. */
export type RankTable = ReadonlyMap<string, number>

/** Builds the byte-keyed rank table from gpt-tokenizer's rank data (index = rank, holes skipped). */
export function buildRankTable(ranks: readonly (string | readonly number[])[]): RankTable {
  const table = new Map<string, number>()
  ranks.forEach((token, rank) => {
    const bytes = typeof token === 'string' ? Buffer.from(token, 'utf8') : Buffer.from(token)
    table.set(bytes.toString('latin1'), rank)
  })

  return table
}

interface Candidate {
  rank: number
  start: number
  mid: number
  end: number
}

const before = (a: Candidate, b: Candidate) =>
  a.rank < b.rank || (a.rank === b.rank && a.start < b.start)

class CandidateHeap {
  readonly #items: Candidate[] = []

  push(item: Candidate): void {
    const items = this.#items
    items.push(item)
    let i = items.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(items[i] as Candidate, items[parent] as Candidate)) {
        break
      }
      ;[items[i], items[parent]] = [items[parent] as Candidate, items[i] as Candidate]
      i = parent
    }
  }

  pop(): Candidate | undefined {
    const items = this.#items
    const top = items[0]
    const last = items.pop()
    if (top === undefined || last === undefined || items.length === 0) {
      return top
    }

    items[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let least = i
      if (left < items.length && before(items[left] as Candidate, items[least] as Candidate)) {
        least = left
      }
      if (right < items.length && before(items[right] as Candidate, items[least] as Candidate)) {
        least = right
      }
      if (least === i) {
        return top
      }
      ;[items[i], items[least]] = [items[least] as Candidate, items[i] as Candidate]
      i = least
    }
  }
}

/** Tokens in one piece of the split pattern, counted as gpt-tokenizer would. */
export function countPieceTokens(piece: string, table: RankTable): number {
  const bytes = Buffer.from(piece, 'utf8').toString('latin1')
  const n = bytes.length
  if (n === 0) {
    return 0
  }
  if (table.has(bytes)) {
    return 1
  }

  // Parts are byte ranges [start, next[start]); a merge removes the boundary between two.
  const next = Int32Array.from({ length: n }, (_, i) => i + 1)
  const prev = Int32Array.from({ length: n }, (_, i) => i - 1)
  const heap = new CandidateHeap()
  const offer = (start: number, mid: number) => {
    const end = mid < n ? (next[mid] as number) : n
    const rank = mid < n ? table.get(bytes.slice(start, end)) : undefined
    if (rank !== undefined) {
      heap.push({ rank, start, mid, end })
    }
  }
  for (let i = 0; i < n - 1; i += 1) {
    offer(i, i + 1)
  }

  let parts = n
  for (let best = heap.pop(); best !== undefined; best = heap.pop()) {
    const { start, mid, end } = best
    // Stale when either part has changed since the pair was offered.
    if (next[start] !== mid || next[mid] !== end || prev[mid] !== start) {
      continue
    }

    next[start] = end
    prev[mid] = -1
    next[mid] = -1
    if (end < n) {
      prev[end] = start
    }
    parts -= 1
    if (start > 0) {
      offer(prev[start] as number, start)
    }
    if (end < n) {
      offer(start, end)
    }
  }

  return parts
}

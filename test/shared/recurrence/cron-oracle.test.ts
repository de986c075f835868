// Our cron evaluation checked against cron-parser, an independent implementation, where the
// two are meant to agree: zones without clock changes and day fields that are not `*/n`. (Where
// they disagree on purpose, DST hours and `*/n` days, recurrence-rule.test.ts pins our answer.)
import { CronExpressionParser } from 'cron-parser'
import t from 'tap'

import { nextOccurrences } from '../../../src/shared/recurrence/recurrence-rule.js'

const EXPRESSIONS = [
  '0 9 * * *',
  '30 17 * * 1-5',
  '*/15 9-17 * * 1-5',
  '0 0 1 * *',
  '0 0 31 * *',
  '0 12 29 2 *',
  '0 9 13 * 5',
  '0 8 1,15 * *',
  '45 23 L * *',
  '0 10 * * 1#2',
  '5 4 * * 0',
  '0 6 * 3-5 *',
  '0 0 1 */3 *',
  '10,40 * * * 6',
]
const ZONES = ['UTC', 'Asia/Tokyo', 'Asia/Kolkata']
const STARTS = ['2026-01-01T00:00:00Z', '2026-02-27T13:07:00Z', '2027-12-31T23:59:00Z']

function theirs(expression: string, timeZone: string, after: string, n: number): string[] {
  const parsed = CronExpressionParser.parse(expression, { currentDate: after, tz: timeZone })

  return Array.from({ length: n }, () => parsed.next().toDate().toISOString())
}

function ours(expression: string, timeZone: string, after: string, n: number): string[] {
  const at = new Date(after)
  const rule = { kind: 'cron' as const, expression }

  return nextOccurrences({ rule, timeZone, anchor: at, after: at }, n).map((o) =>
    o.at.toISOString(),
  )
}

t.test('cron evaluation should agree with cron-parser away from clock changes', async (t) => {
  for (const expression of EXPRESSIONS) {
    for (const zone of ZONES) {
      for (const start of STARTS) {
        t.same(
          ours(expression, zone, start, 12),
          theirs(expression, zone, start, 12),
          `${expression} ${zone} ${start}`,
        )
      }
    }
  }
})

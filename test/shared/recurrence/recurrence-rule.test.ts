import { Ajv } from 'ajv'
import addFormatsPlugin from 'ajv-formats'
import t from 'tap'

import {
  nextDueAfterCompletion,
  nextOccurrence,
  nextOccurrences,
  recurrenceRuleSchema,
  validateRecurrenceRule,
  type RecurrenceRule,
} from '../../../src/shared/recurrence/recurrence-rule.js'
import { recurrenceCorpus } from '../../helpers/fixtures.js'

const corpus = recurrenceCorpus()

const MADRID = 'Europe/Madrid'
const NEW_YORK = 'America/New_York'

// Instants without milliseconds, as the corpus writes them
function iso(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z')
}

function cron(expression: string): RecurrenceRule {
  return { kind: 'cron', expression }
}

// The occurrences after `after` of a series anchored there (the anchor itself is not after it)
function cronAfter(expression: string, timeZone: string, after: string, n: number): string[] {
  const at = new Date(after)

  return nextOccurrences({ rule: cron(expression), timeZone, anchor: at, after: at }, n).map(
    (occurrence) => iso(occurrence.at),
  )
}

// The series from its anchor on, the anchor included
function series(rule: RecurrenceRule, timeZone: string, anchor: string, n: number): string[] {
  const start = new Date(anchor)
  const after = new Date(start.getTime() - 1)

  return nextOccurrences({ rule, timeZone, anchor: start, after }, n).map((o) => iso(o.at))
}

t.test('nextOccurrences should give the next occurrences of every corpus case', async (t) => {
  t.ok(corpus.length > 0)
  for (const c of corpus) {
    t.same(cronAfter(c.cron, c.timezone, c.after, c.next.length), c.next, `${c.cron} ${c.timezone}`)
  }
})

t.test(
  'nextOccurrences should fire an ambiguous wall time once, at its first instant',
  async (t) => {
    // 01:00 and 01:30 happen twice on 2026-11-01 in New York; the second pass is skipped
    t.same(cronAfter('30 * * * *', NEW_YORK, '2026-11-01T04:00:00Z', 4), [
      '2026-11-01T04:30:00Z',
      '2026-11-01T05:30:00Z',
      '2026-11-01T07:30:00Z',
      '2026-11-01T08:30:00Z',
    ])
    t.same(cronAfter('0 * * * *', NEW_YORK, '2026-11-01T04:30:00Z', 3), [
      '2026-11-01T05:00:00Z',
      '2026-11-01T07:00:00Z',
      '2026-11-01T08:00:00Z',
    ])
    // After the first 01:30 has passed, the second one is not another occurrence
    t.same(cronAfter('30 1 * * *', NEW_YORK, '2026-11-01T05:45:00Z', 1), ['2026-11-02T06:30:00Z'])
  },
)

t.test('nextOccurrences should move wall times in a gap forward, each once', async (t) => {
  t.same(cronAfter('*/15 2 * * *', NEW_YORK, '2026-03-08T05:00:00Z', 5), [
    '2026-03-08T07:00:00Z',
    '2026-03-08T07:15:00Z',
    '2026-03-08T07:30:00Z',
    '2026-03-08T07:45:00Z',
    '2026-03-09T06:00:00Z',
  ])
  // 02:30 moves onto 03:30, which the expression names too: one occurrence
  t.same(cronAfter('30 2,3 * * *', NEW_YORK, '2026-03-08T05:00:00Z', 2), [
    '2026-03-08T07:30:00Z',
    '2026-03-09T06:30:00Z',
  ])
  // A 30-minute gap: 02:15 on 2026-10-04 at Lord Howe Island is read 02:45
  t.same(cronAfter('15 2 * * *', 'Australia/Lord_Howe', '2026-10-03T00:00:00Z', 2), [
    '2026-10-03T15:45:00Z',
    '2026-10-04T15:15:00Z',
  ])
})

t.test('nextOccurrences should read day fields as Vixie cron does', async (t) => {
  // Both restricted: either matches. `*/2` starts with `*`, so both must match
  t.same(cronAfter('0 0 1 * 1', 'UTC', '2026-01-01T00:00:00Z', 3), [
    '2026-01-05T00:00:00Z',
    '2026-01-12T00:00:00Z',
    '2026-01-19T00:00:00Z',
  ])
  t.same(cronAfter('0 0 */2 * 1', 'UTC', '2026-01-01T00:00:00Z', 3), [
    '2026-01-05T00:00:00Z',
    '2026-01-19T00:00:00Z',
    '2026-02-09T00:00:00Z',
  ])
  t.same(cronAfter('0 9 31 * *', 'UTC', '2026-01-31T09:00:00Z', 2), [
    '2026-03-31T09:00:00Z',
    '2026-05-31T09:00:00Z',
  ])
})

t.test('nextOccurrences should support L, #, names and Sunday as 7', async (t) => {
  t.same(cronAfter('0 9 L * *', 'UTC', '2026-01-31T10:00:00Z', 2), [
    '2026-02-28T09:00:00Z',
    '2026-03-31T09:00:00Z',
  ])
  t.same(cronAfter('0 9 * * 5L', 'UTC', '2026-01-01T00:00:00Z', 2), [
    '2026-01-30T09:00:00Z',
    '2026-02-27T09:00:00Z',
  ])
  t.same(cronAfter('0 9 * * MON#1,MON#3', 'UTC', '2026-01-01T00:00:00Z', 3), [
    '2026-01-05T09:00:00Z',
    '2026-01-19T09:00:00Z',
    '2026-02-02T09:00:00Z',
  ])
  t.same(cronAfter('0 9 * JAN 0,7', 'UTC', '2026-01-01T00:00:00Z', 1), ['2026-01-04T09:00:00Z'])
})

t.test('nextOccurrence should count ordinals from the anchor', async (t) => {
  const anchor = new Date('2026-01-01T08:00:00Z')
  const query = { rule: cron('0 9 * * *'), timeZone: 'UTC', anchor }

  // The anchor is the first occurrence even though the expression does not name 08:00
  t.same(nextOccurrence({ ...query, after: new Date('2025-12-31T00:00:00Z') }), {
    at: anchor,
    ordinal: 1,
  })
  t.same(nextOccurrence({ ...query, after: anchor }), {
    at: new Date('2026-01-01T09:00:00Z'),
    ordinal: 2,
  })
  t.same(nextOccurrence({ ...query, after: new Date('2026-01-10T09:00:00Z') }), {
    at: new Date('2026-01-11T09:00:00Z'),
    ordinal: 12,
  })
})

t.test('monthly preset should keep the anchor day, clamped to short months', async (t) => {
  const rule: RecurrenceRule = { kind: 'preset', preset: 'monthly' }

  // 09:00 in Madrid: CET until 2026-03-29, CEST after
  t.same(series(rule, MADRID, '2026-01-31T08:00:00Z', 6), [
    '2026-01-31T08:00:00Z',
    '2026-02-28T08:00:00Z',
    '2026-03-31T07:00:00Z',
    '2026-04-30T07:00:00Z',
    '2026-05-31T07:00:00Z',
    '2026-06-30T07:00:00Z',
  ])
  t.same(series({ ...rule, interval: 2 }, 'UTC', '2027-12-31T09:00:00Z', 3), [
    '2027-12-31T09:00:00Z',
    '2028-02-29T09:00:00Z',
    '2028-04-30T09:00:00Z',
  ])
})

t.test(
  'yearly preset should fall on Feb 28 in common years and Feb 29 in leap years',
  async (t) => {
    const rule: RecurrenceRule = { kind: 'preset', preset: 'yearly' }

    t.same(series(rule, MADRID, '2028-02-29T08:00:00Z', 5), [
      '2028-02-29T08:00:00Z',
      '2029-02-28T08:00:00Z',
      '2030-02-28T08:00:00Z',
      '2031-02-28T08:00:00Z',
      '2032-02-29T08:00:00Z',
    ])
  },
)

t.test('daily preset should keep the local time across a DST change', async (t) => {
  t.same(series({ kind: 'preset', preset: 'daily' }, MADRID, '2026-03-27T08:00:00Z', 4), [
    '2026-03-27T08:00:00Z',
    '2026-03-28T08:00:00Z',
    '2026-03-29T07:00:00Z',
    '2026-03-30T07:00:00Z',
  ])
  // 01:30 on fall-back day happens twice in New York: the first one
  t.same(
    series({ kind: 'preset', preset: 'daily', interval: 2 }, NEW_YORK, '2026-10-30T05:30:00Z', 3),
    ['2026-10-30T05:30:00Z', '2026-11-01T05:30:00Z', '2026-11-03T06:30:00Z'],
  )
})

t.test('weekdays preset should skip weekends', async (t) => {
  const rule: RecurrenceRule = { kind: 'preset', preset: 'weekdays' }

  // Thursday 2026-03-05, 09:00 in Madrid
  t.same(series(rule, MADRID, '2026-03-05T08:00:00Z', 4), [
    '2026-03-05T08:00:00Z',
    '2026-03-06T08:00:00Z',
    '2026-03-09T08:00:00Z',
    '2026-03-10T08:00:00Z',
  ])
  // A Saturday anchor is still the first occurrence; Monday follows
  t.same(series(rule, 'UTC', '2026-03-07T09:00:00Z', 2), [
    '2026-03-07T09:00:00Z',
    '2026-03-09T09:00:00Z',
  ])
})

t.test('weekly preset should step the given number of weeks on the anchor weekday', async (t) => {
  t.same(
    series({ kind: 'preset', preset: 'weekly', interval: 2 }, 'UTC', '2026-01-06T09:00:00Z', 4),
    [
      '2026-01-06T09:00:00Z',
      '2026-01-20T09:00:00Z',
      '2026-02-03T09:00:00Z',
      '2026-02-17T09:00:00Z',
    ],
  )
})

t.test('count should end a series after that many occurrences, the anchor included', async (t) => {
  const daily: RecurrenceRule = { kind: 'preset', preset: 'daily', count: 3 }
  t.same(series(daily, 'UTC', '2026-01-01T09:00:00Z', 10), [
    '2026-01-01T09:00:00Z',
    '2026-01-02T09:00:00Z',
    '2026-01-03T09:00:00Z',
  ])

  const hourly: RecurrenceRule = { kind: 'cron', expression: '0 * * * *', count: 3 }
  t.same(series(hourly, 'UTC', '2026-01-01T08:30:00Z', 10), [
    '2026-01-01T08:30:00Z',
    '2026-01-01T09:00:00Z',
    '2026-01-01T10:00:00Z',
  ])
})

t.test('until should end a series at that instant, inclusive', async (t) => {
  const rule: RecurrenceRule = {
    kind: 'preset',
    preset: 'daily',
    until: '2026-01-03T09:00:00Z',
  }
  t.same(series(rule, 'UTC', '2026-01-01T09:00:00Z', 10), [
    '2026-01-01T09:00:00Z',
    '2026-01-02T09:00:00Z',
    '2026-01-03T09:00:00Z',
  ])

  const weekly: RecurrenceRule = {
    kind: 'cron',
    expression: '0 9 * * 1',
    until: '2026-01-12T08:59:59Z',
  }
  t.same(series(weekly, 'UTC', '2026-01-05T09:00:00Z', 10), ['2026-01-05T09:00:00Z'])
})

t.test('nextDueAfterCompletion should never give a due date at or before completion', async (t) => {
  const base = {
    rule: { kind: 'preset', preset: 'daily' } as RecurrenceRule,
    timeZone: MADRID,
    anchor: new Date('2026-03-02T08:00:00Z'),
  }

  // On time: the next day
  t.same(
    nextDueAfterCompletion({
      ...base,
      previousDue: new Date('2026-03-02T08:00:00Z'),
      previousOrdinal: 1,
      completedAt: new Date('2026-03-02T07:00:00Z'),
    }),
    { due: new Date('2026-03-03T08:00:00Z'), ordinal: 2 },
  )

  // Three days late, after that day's 09:00: the day after, with the skipped days counted
  t.same(
    nextDueAfterCompletion({
      ...base,
      previousDue: new Date('2026-03-02T08:00:00Z'),
      previousOrdinal: 1,
      completedAt: new Date('2026-03-05T15:00:00Z'),
    }),
    { due: new Date('2026-03-06T08:00:00Z'), ordinal: 5 },
  )

  // Completed at the very instant of an occurrence: strictly after it, so the one after
  t.same(
    nextDueAfterCompletion({
      ...base,
      previousDue: new Date('2026-03-02T08:00:00Z'),
      previousOrdinal: 1,
      completedAt: new Date('2026-03-04T08:00:00Z'),
    }),
    { due: new Date('2026-03-05T08:00:00Z'), ordinal: 4 },
  )
})

t.test('nextDueAfterCompletion should resume a cron count at the previous ordinal', async (t) => {
  const base = {
    rule: { kind: 'cron', expression: '0 9 * * 1-5', count: 10 } as RecurrenceRule,
    timeZone: NEW_YORK,
    anchor: new Date('2026-03-02T14:00:00Z'),
  }

  // Friday's task (ordinal 5) completed on Saturday: Monday, ordinal 6, after the DST change
  t.same(
    nextDueAfterCompletion({
      ...base,
      previousDue: new Date('2026-03-06T14:00:00Z'),
      previousOrdinal: 5,
      completedAt: new Date('2026-03-07T12:00:00Z'),
    }),
    { due: new Date('2026-03-09T13:00:00Z'), ordinal: 6 },
  )

  // Completed so late that the 10 occurrences are all behind: the series has ended
  t.equal(
    nextDueAfterCompletion({
      ...base,
      previousDue: new Date('2026-03-06T14:00:00Z'),
      previousOrdinal: 5,
      completedAt: new Date('2026-03-20T12:00:00Z'),
    }),
    null,
  )
})

t.test('validateRecurrenceRule should accept good rules', async (t) => {
  const good: unknown[] = [
    { kind: 'cron', expression: '*/15 9-17 * * MON-FRI' },
    { kind: 'cron', expression: '0 12 29 2 *', count: 5 },
    { kind: 'preset', preset: 'monthly', interval: 3, until: '2027-01-01T00:00:00+01:00' },
    { kind: 'preset', preset: 'weekdays', interval: 1 },
  ]
  for (const rule of good) {
    t.doesNotThrow(() => validateRecurrenceRule(rule, MADRID), JSON.stringify(rule))
  }
})

t.test('validateRecurrenceRule should name each problem with its code', async (t) => {
  const bad: [unknown, string, string][] = [
    [{ kind: 'cron', expression: '0 0 0 * * *' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '@daily' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '61 * * * *' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '0 9 * * 1-' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: 'H 9 * * *' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '*/0 9 * * *' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '0 9 * * 1#6' }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: 42 }, 'UTC', 'API_INVALID_CRON'],
    [{ kind: 'cron', expression: '0 0 30 2 *' }, 'UTC', 'API_RULE_NEVER_FIRES'],
    [{ kind: 'cron', expression: '0 0 31 4 *' }, 'UTC', 'API_RULE_NEVER_FIRES'],
    [{ kind: 'cron', expression: '0 0 31 2,4,6,9,11 *' }, 'UTC', 'API_RULE_NEVER_FIRES'],
    [{ kind: 'preset', preset: 'hourly' }, 'UTC', 'API_UNKNOWN_PRESET'],
    [{ kind: 'preset', preset: 'daily' }, 'Mars/Base', 'API_UNKNOWN_TIME_ZONE'],
    [{ kind: 'cron', expression: '0 9 * * *' }, '+01:00', 'API_UNKNOWN_TIME_ZONE'],
    [{ kind: 'preset', preset: 'daily', interval: 0 }, 'UTC', 'API_INVALID_INTERVAL'],
    [{ kind: 'preset', preset: 'daily', interval: 1.5 }, 'UTC', 'API_INVALID_INTERVAL'],
    [{ kind: 'preset', preset: 'daily', interval: '2' }, 'UTC', 'API_INVALID_INTERVAL'],
    [{ kind: 'preset', preset: 'weekdays', interval: 2 }, 'UTC', 'API_INVALID_INTERVAL'],
    [{ kind: 'preset', preset: 'daily', count: 0 }, 'UTC', 'API_INVALID_COUNT'],
    [{ kind: 'preset', preset: 'daily', until: '2027-01-01' }, 'UTC', 'API_INVALID_UNTIL'],
    [{ kind: 'preset', preset: 'daily', until: '2027-01-01T00:00' }, 'UTC', 'API_INVALID_UNTIL'],
    [
      { kind: 'preset', preset: 'daily', count: 2, until: '2027-01-01T00:00:00Z' },
      'UTC',
      'API_CONFLICTING_RULE_END',
    ],
    [null, 'UTC', 'API_INVALID_RECURRENCE_RULE'],
    [{ kind: 'rrule', rule: 'FREQ=DAILY' }, 'UTC', 'API_INVALID_RECURRENCE_RULE'],
    [{ kind: 'cron', expression: '0 9 * * *', interval: 2 }, 'UTC', 'API_INVALID_RECURRENCE_RULE'],
  ]
  for (const [rule, timeZone, code] of bad) {
    t.throws(
      () => validateRecurrenceRule(rule, timeZone),
      { code, statusCode: 400 },
      JSON.stringify(rule),
    )
  }

  t.throws(() => validateRecurrenceRule(cron('0 0 30 2 *'), 'UTC'), {
    message: 'cron expression never fires: 0 0 30 2 *',
  })
  t.throws(() => validateRecurrenceRule(cron('61 * * * *'), 'UTC'), {
    message: 'invalid cron expression "61 * * * *": minute 61 is outside 0-59',
  })
})

t.test(
  'recurrenceRuleSchema should accept rules and refuse malformed ones under ajv',
  async (t) => {
    const addFormats = addFormatsPlugin as unknown as (ajv: Ajv) => Ajv
    const ajv = new Ajv({ strict: true })
    addFormats(ajv)
    const validate = ajv.compile(recurrenceRuleSchema)

    const good = [
      { kind: 'cron', expression: '0 9 * * *' },
      { kind: 'preset', preset: 'monthly', interval: 2, count: 3 },
      { kind: 'preset', preset: 'daily', until: '2026-06-01T00:00:00Z' },
    ]
    for (const rule of good) {
      t.ok(validate(rule), JSON.stringify(rule))
    }

    const bad = [
      { kind: 'cron' },
      { kind: 'preset' },
      { kind: 'preset', preset: 'hourly' },
      { kind: 'cron', expression: '0 9 * * *', interval: 2 },
      { kind: 'preset', preset: 'daily', expression: '0 9 * * *' },
      { kind: 'preset', preset: 'daily', count: 2, until: '2026-06-01T00:00:00Z' },
      { kind: 'preset', preset: 'daily', until: '2026-06-01T00:00:00' },
      { kind: 'preset', preset: 'daily', interval: 0 },
      { kind: 'preset', preset: 'daily', colour: 'red' },
    ]
    for (const rule of bad) {
      t.notOk(validate(rule), JSON.stringify(rule))
    }
  },
)

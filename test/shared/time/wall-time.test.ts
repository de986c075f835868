import t from 'tap'

import {
  isValidTimeZone,
  parseDueDate,
  parseInstant,
  resolveWallTime,
} from '../../../src/shared/time/wall-time.js'

const NEW_YORK = 'America/New_York'

t.test(
  'isValidTimeZone should accept IANA names and refuse offsets and made-up zones',
  async (t) => {
    const zones = ['Europe/Madrid', 'America/Argentina/Buenos_Aires', 'UTC', 'Etc/GMT+5', 'EST5EDT']
    for (const zone of zones) {
      t.ok(isValidTimeZone(zone), zone)
    }
    for (const zone of [
      'Mars/Base',
      '+01:00',
      '-05:00',
      'UTC+1',
      'PST',
      'BST',
      'IST',
      '',
      'Europe/Madrid ',
      'SystemV/AST4',
    ]) {
      t.notOk(isValidTimeZone(zone), JSON.stringify(zone))
    }
  },
)

t.test('resolveWallTime should read an ordinary local time with the zone offset', async (t) => {
  t.equal(
    resolveWallTime('2026-07-01T09:00', 'Europe/Madrid').toISOString(),
    '2026-07-01T07:00:00.000Z',
  )
  t.equal(
    resolveWallTime('2026-01-15T09:00:30', 'Europe/Madrid').toISOString(),
    '2026-01-15T08:00:30.000Z',
  )
})

t.test(
  'resolveWallTime should move a time in a spring-forward gap forward by the gap',
  async (t) => {
    const fields = { year: 2026, month: 3, day: 8, hour: 2, minute: 30 }

    t.equal(resolveWallTime('2026-03-08T02:30', NEW_YORK).toISOString(), '2026-03-08T07:30:00.000Z')
    t.equal(resolveWallTime(fields, NEW_YORK).toISOString(), '2026-03-08T07:30:00.000Z')
    // The first minute after the gap is the same instant as the one the gap's start moves to
    t.equal(resolveWallTime('2026-03-08T02:00', NEW_YORK).toISOString(), '2026-03-08T07:00:00.000Z')
    t.equal(resolveWallTime('2026-03-08T03:00', NEW_YORK).toISOString(), '2026-03-08T07:00:00.000Z')
  },
)

t.test('resolveWallTime should take the first instant of an ambiguous time', async (t) => {
  const fields = { year: 2026, month: 11, day: 1, hour: 1, minute: 30 }

  t.equal(resolveWallTime(fields, NEW_YORK).toISOString(), '2026-11-01T05:30:00.000Z')
  t.equal(
    resolveWallTime('2026-11-01T01:59:59', NEW_YORK).toISOString(),
    '2026-11-01T05:59:59.000Z',
  )
  t.equal(resolveWallTime('2026-11-01T02:00', NEW_YORK).toISOString(), '2026-11-01T07:00:00.000Z')
})

t.test('resolveWallTime should handle half-hour, midnight and whole-day transitions', async (t) => {
  // Lord Howe Island moves 30 minutes: 02:00 +10:30 becomes 02:30 +11:00
  t.equal(
    resolveWallTime('2026-10-04T02:15', 'Australia/Lord_Howe').toISOString(),
    '2026-10-03T15:45:00.000Z',
  )
  // Havana springs forward at midnight
  t.equal(
    resolveWallTime('2026-03-08T00:30', 'America/Havana').toISOString(),
    '2026-03-08T05:30:00.000Z',
  )
  // Samoa skipped 2011-12-30 when it crossed the date line
  t.equal(
    resolveWallTime('2011-12-30T09:00', 'Pacific/Apia').toISOString(),
    '2011-12-30T19:00:00.000Z',
  )
  t.equal(
    resolveWallTime('2011-12-31T09:00', 'Pacific/Apia').toISOString(),
    '2011-12-30T19:00:00.000Z',
  )
})

t.test('resolveWallTime should refuse impossible local times and unknown zones', async (t) => {
  const invalid = { code: 'API_INVALID_LOCAL_TIME', statusCode: 400 }

  t.throws(() => resolveWallTime('2026-02-30T09:00', NEW_YORK), invalid)
  t.throws(() => resolveWallTime('2026-03-08T24:00', NEW_YORK), invalid)
  t.throws(() => resolveWallTime('2026-03-08T09:00Z', NEW_YORK), invalid)
  t.throws(
    () => resolveWallTime({ year: 2026, month: 1, day: 1, hour: 9, minute: 60 }, NEW_YORK),
    invalid,
  )
  t.throws(
    () => resolveWallTime({ year: 2026, month: 1, day: 1, hour: 9.5, minute: 0 }, NEW_YORK),
    invalid,
  )
  t.throws(() => resolveWallTime('2026-03-08T09:00', 'Mars/Base'), {
    code: 'API_UNKNOWN_TIME_ZONE',
    statusCode: 400,
    message: 'unknown time zone: Mars/Base',
  })
})

t.test('parseDueDate should take an instant with Z or an offset as is', async (t) => {
  t.equal(parseDueDate('2026-03-08T14:00:00Z', NEW_YORK).toISOString(), '2026-03-08T14:00:00.000Z')
  t.equal(
    parseDueDate('2026-03-08T15:00:00+01:00', NEW_YORK).toISOString(),
    '2026-03-08T14:00:00.000Z',
  )
  t.equal(parseDueDate('2026-03-08T09:30-04:30', 'UTC').toISOString(), '2026-03-08T14:00:00.000Z')
  t.equal(
    parseDueDate('2026-03-08T14:00:00.123456Z', 'UTC').toISOString(),
    '2026-03-08T14:00:00.123Z',
  )
})

t.test('parseDueDate should resolve a local date-time in the time zone', async (t) => {
  t.equal(parseDueDate('2026-03-10T09:00', NEW_YORK).toISOString(), '2026-03-10T13:00:00.000Z')
  t.equal(parseDueDate('2026-03-08T02:30:00', NEW_YORK).toISOString(), '2026-03-08T07:30:00.000Z')
  t.equal(parseDueDate('2026-11-01T01:30', NEW_YORK).toISOString(), '2026-11-01T05:30:00.000Z')
})

t.test('parseDueDate should refuse a date without a time of day', async (t) => {
  t.throws(() => parseDueDate('2026-03-10', NEW_YORK), {
    code: 'API_INVALID_DUE_DATE',
    statusCode: 400,
    message: 'due date has no time of day: 2026-03-10',
  })
})

t.test('parseDueDate should refuse garbage and impossible dates', async (t) => {
  const garbage = [
    'tomorrow',
    '',
    '1772978400000',
    '2026-03-08 14:00',
    '2026-3-8T14:00Z',
    '2026-03-08T14Z',
    '2026-03-08T14:00:00+0100',
    '2026-03-08T14:00:00+24:00',
    '2026-13-01T00:00Z',
    '2026-02-29T09:00',
    '2026-03-08T23:59:60Z',
    '+002026-03-08T14:00Z',
  ]
  for (const input of garbage) {
    t.throws(
      () => parseDueDate(input, NEW_YORK),
      { code: 'API_INVALID_DUE_DATE', statusCode: 400 },
      input,
    )
  }
})

t.test('parseDueDate should refuse an unknown time zone', async (t) => {
  t.throws(() => parseDueDate('2026-03-10T09:00', 'Mars/Base'), { code: 'API_UNKNOWN_TIME_ZONE' })
})

t.test('parseInstant should read only instants that carry an offset', async (t) => {
  t.equal(parseInstant('2026-03-08T14:00:00Z'), Date.UTC(2026, 2, 8, 14))
  t.equal(parseInstant('2026-03-08T14:00:00'), undefined)
  t.equal(parseInstant('2026-02-30T14:00:00Z'), undefined)
})

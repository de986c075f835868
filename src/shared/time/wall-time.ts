// Local wall times and the instants they name in IANA time zones. This is the one place that
// decides what a nonexistent (spring-forward) or ambiguous (fall-back) local time means.
import { IANAZone } from 'luxon'
import { AppError } from '../errors.js'

/** A local date and time, as a person reads it off a wall clock; months and days count from 1. */
export interface LocalDateTime {
  year: number
  month: number
  day: number
  hour: number
  minute: number
  /** 0 when not given. */
  second?: number
}

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))?$/
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/
const DUE_DATE_EXAMPLE = '2026-03-08T09:00 (local) or 2026-03-08T14:00:00Z'

// IANA names without an area: UTC and the legacy POSIX-style zones. Other bare names the runtime
// accepts are ICU's own aliases, some misleading (BST is Asia/Dhaka, IST Asia/Kolkata)
const BARE_ZONES = new Set(
  'utc gmt est mst hst cet eet met wet est5edt cst6cdt mst7mdt pst8pdt'.split(' '),
)

/**
 * Whether `timeZone` is an IANA zone name the runtime knows: `Area/Location` such as
 * `Europe/Madrid`, `UTC`, or a legacy zone such as `EST5EDT`. Case-insensitive, as IANA names are
 * unique regardless of case. Offsets (`+01:00`) and abbreviations (`PST`) are refused.
 */
export function isValidTimeZone(timeZone: string): boolean {
  const named = /^[A-Za-z][\w+-]*\/[\w/+-]+$/.test(timeZone) && !timeZone.startsWith('SystemV/')

  return (named || BARE_ZONES.has(timeZone.toLowerCase())) && IANAZone.isValidZone(timeZone)
}

/**
 * The instant a local wall time names in a zone. A time skipped by a spring-forward transition
 * moves forward by the length of the gap (02:30 on 2026-03-08 in America/New_York is 07:30Z,
 * read 03:30 locally); a time repeated by a fall-back transition takes its first instant
 * (01:30 on 2026-11-01 in America/New_York is 05:30Z). These are RFC 5545's rules (§3.3.5),
 * also Temporal's `compatible` disambiguation.
 *
 * @param local fields, or a string `YYYY-MM-DDTHH:mm[:ss[.fff]]` without offset
 * @throws AppError `API_INVALID_LOCAL_TIME` for a malformed or impossible local time,
 *   `API_UNKNOWN_TIME_ZONE` for an unknown zone
 */
export function resolveWallTime(local: LocalDateTime | string, timeZone: string): Date {
  const wall = typeof local === 'string' ? parseLocalString(local) : localFieldsToWall(local)

  if (wall === undefined) {
    const shown = typeof local === 'string' ? local : JSON.stringify(local)
    throw new AppError('API_INVALID_LOCAL_TIME', `local time does not exist: ${clip(shown)}`, {
      statusCode: 400,
      details: { localTime: local },
    })
  }

  return new Date(wallTimeResolver(timeZone, wall, wall)(wall))
}

/**
 * A due date sent by a client: an ISO 8601 instant with `Z` or an offset is taken as is; a local
 * date-time without offset is resolved in `timeZone` by the rules of {@link resolveWallTime}.
 * A date without a time is refused: whether it means the start or the end of the day is
 * the client's decision, not ours.
 *
 * @throws AppError `API_INVALID_DUE_DATE` (400) for anything else, `API_UNKNOWN_TIME_ZONE` (400)
 */
export function parseDueDate(input: string, timeZone: string): Date {
  assertTimeZone(timeZone)

  const match = DATE_TIME.exec(input)
  if (match === null) {
    const problem = DATE_ONLY.test(input)
      ? 'due date has no time of day'
      : 'due date is not an ISO 8601 date-time'
    throw invalidDueDate(`${problem}: ${clip(input)}`, input)
  }

  const wall = wallFromMatch(match)
  if (wall === undefined) {
    throw invalidDueDate(`due date does not exist: ${clip(input)}`, input)
  }

  const offset = offsetFromMatch(match)
  if (offset === null) {
    return new Date(wallTimeResolver(timeZone, wall, wall)(wall))
  }
  if (offset === undefined) {
    throw invalidDueDate(`due date has an impossible offset: ${clip(input)}`, input)
  }

  return new Date(wall - offset)
}

/**
 * An ISO 8601 instant that carries `Z` or an offset, as epoch milliseconds; undefined for
 * anything else, a local time without offset included.
 */
export function parseInstant(input: string): number | undefined {
  const match = DATE_TIME.exec(input)
  const wall = match === null ? undefined : wallFromMatch(match)
  const offset = match === null ? undefined : offsetFromMatch(match)
  if (wall === undefined || offset === undefined || offset === null) {
    return undefined
  }

  return wall - offset
}

/**
 * The local wall time of an instant, as the epoch milliseconds whose UTC fields read that wall
 * time (the "wall milliseconds" the other helpers take).
 */
export function wallTimeAt(instant: number, timeZone: string): number {
  return instant + offsetAt(ianaZone(timeZone), instant)
}

/**
 * A function from wall milliseconds to instants for wall times between `fromWall` and
 * `toWall` (at most a day apart), with the rules of {@link resolveWallTime}. It reads the
 * zone's offsets once, so resolving every wall time of a day costs no more than one.
 *
 * Assumes the zone changes offset at most once within a day of either end: in the IANA
 * database, transitions from 1970 to 2060 are at least a week apart.
 */
export function wallTimeResolver(
  timeZone: string,
  fromWall: number,
  toWall: number,
): (wall: number) => number {
  const zone = ianaZone(timeZone)
  // Offsets stay within ±24h, so every instant that can read as one of these wall times lies
  // in this window
  const windowStart = fromWall - DAY_MS
  const windowEnd = toWall + DAY_MS
  const before = offsetAt(zone, windowStart)
  const after = offsetAt(zone, windowEnd)

  if (before === after) {
    return (wall) => wall - before
  }

  const transition = findTransition(zone, windowStart, windowEnd, before)

  return (wall) => {
    const early = wall - before
    if (early < transition) {
      return early
    }

    const late = wall - after
    // Neither reading exists in a gap: reading the wall time with the offset in force before
    // the gap lands as far past the gap's end as the wall time was past its start
    return late >= transition ? late : early
  }
}

/** How many days a month (1-12) of the proleptic Gregorian calendar has. */
export function daysInMonth(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)

  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0
}

// Checking a name costs an Intl.DateTimeFormat; a day-by-day cron search asks for the zone once
// a day. Bounded, as the names come from clients
const checkedZones = new Map<string, IANAZone>()

function ianaZone(timeZone: string): IANAZone {
  const checked = checkedZones.get(timeZone)
  if (checked !== undefined) {
    return checked
  }

  assertTimeZone(timeZone)
  const zone = IANAZone.create(timeZone)
  if (checkedZones.size < 1000) {
    checkedZones.set(timeZone, zone)
  }

  return zone
}

function assertTimeZone(timeZone: string): void {
  if (!isValidTimeZone(timeZone)) {
    throw new AppError('API_UNKNOWN_TIME_ZONE', `unknown time zone: ${clip(timeZone)}`, {
      statusCode: 400,
      details: { timeZone },
    })
  }
}

function offsetAt(zone: IANAZone, instant: number): number {
  return Math.round(zone.offset(instant) * MINUTE_MS)
}

// The first whole second in (start, end] with an offset other than `before`; the IANA
// database records transitions to the second
function findTransition(zone: IANAZone, start: number, end: number, before: number): number {
  let low = Math.floor(start / 1000)
  let high = Math.ceil(end / 1000)

  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2)
    if (offsetAt(zone, middle * 1000) === before) {
      low = middle
    } else {
      high = middle
    }
  }

  return high * 1000
}

function parseLocalString(input: string): number | undefined {
  const match = DATE_TIME.exec(input)
  if (match === null || offsetFromMatch(match) !== null) {
    return undefined
  }

  return wallFromMatch(match)
}

function localFieldsToWall(local: LocalDateTime): number | undefined {
  const { year, month, day, hour, minute, second = 0 } = local

  return toWall(year, month, day, hour, minute, second, 0)
}

function wallFromMatch(match: RegExpExecArray): number | undefined {
  const [, year, month, day, hour, minute, second, fraction] = match
  // Digits past the millisecond are dropped: instants here carry milliseconds
  const millisecond = Number((fraction ?? '').padEnd(3, '0').slice(0, 3))

  return toWall(
    Number(year),
    Number(month),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second ?? 0),
    millisecond,
  )
}

// null: no offset given; undefined: an offset out of range
function offsetFromMatch(match: RegExpExecArray): number | null | undefined {
  const [, , , , , , , , zulu, sign, hours, minutes] = match
  if (zulu !== undefined) {
    return 0
  }
  if (sign === undefined) {
    return null
  }

  const offsetHours = Number(hours)
  const offsetMinutes = Number(minutes)
  if (offsetHours > 23 || offsetMinutes > 59) {
    return undefined
  }

  return (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * MINUTE_MS
}

// Wall milliseconds for valid fields, undefined when any is out of range (2026-02-30,
// 24:00, a leap second)
function toWall(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
): number | undefined {
  const fields = [year, month, day, hour, minute, second, millisecond]
  const inRange =
    fields.every(Number.isInteger) &&
    year >= 1 &&
    year <= 9999 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    Math.min(hour, minute, second, millisecond) >= 0
  if (!inRange) {
    return undefined
  }

  // setUTCFullYear, unlike Date.UTC, leaves years 1-99 alone
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millisecond))
  date.setUTCFullYear(year)

  return date.getTime()
}

function invalidDueDate(message: string, input: string): AppError {
  return new AppError('API_INVALID_DUE_DATE', message, {
    statusCode: 400,
    details: { dueDate: input, expected: DUE_DATE_EXAMPLE },
  })
}

// Keeps messages short when a client sends a novel
function clip(text: string): string {
  return text.length > 64 ? `${text.slice(0, 64)}…` : text
}

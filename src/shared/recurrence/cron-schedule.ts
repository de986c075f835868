// 5-field cron expressions: parsing, which local days match, and the instants a matching day
// holds in a zone. Ours rather than cron-parser's: its iteration fires the repeated fall-back
// hour twice for hourly expressions and loses occurrences around half-hour and 45-minute
// transitions (Australia/Lord_Howe, Pacific/Chatham), and its parser takes 6 fields and `H`.
import { daysInMonth, wallTimeResolver } from '../time/wall-time.js'
import type { Schedule } from './recurrence-rule.js'

/** A parsed expression; days are local days, numbered from 1970-01-01 (day 0). */
export interface CronSpec {
  expression: string
  /** Milliseconds after local midnight of each wall time the expression names, ascending. */
  times: number[]
  /** Indexed by month, 1-12. */
  months: boolean[]
  /** Indexed by day of the month, 1-31. */
  daysOfMonth: boolean[]
  lastDayOfMonth: boolean
  /** Indexed by weekday, 0 (Sunday) to 6. */
  weekdays: boolean[]
  /** `5L`: the last Friday of the month. */
  lastWeekdays: boolean[]
  /** `1#2` (the second Monday) as weekday * 8 + 2. */
  nthWeekdays: Set<number>
  /** Vixie cron: a day matching either field fires unless one of them starts with `*`. */
  eitherDay: boolean
}

interface FieldBounds {
  name: string
  min: number
  max: number
  names: readonly string[]
  /** The number the first name stands for. */
  firstName: number
}

const MINUTE: FieldBounds = { name: 'minute', min: 0, max: 59, names: [], firstName: 0 }
const HOUR: FieldBounds = { name: 'hour', min: 0, max: 23, names: [], firstName: 0 }
const DAY_OF_MONTH: FieldBounds = { name: 'day of month', min: 1, max: 31, names: [], firstName: 1 }
const MONTH: FieldBounds = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  firstName: 1,
}
// 7 is Sunday too
const DAY_OF_WEEK: FieldBounds = {
  name: 'day of week',
  min: 0,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
  firstName: 0,
}

const DAY_MS = 86_400_000
const MINUTE_MS = 60_000

class CronSyntaxError extends Error {}

/** The expression parsed, or why it is not a 5-field cron expression. */
export function parseCron(expression: string): CronSpec | string {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== 5) {
    const seconds = fields.length === 6 ? '; seconds are not supported' : ''

    return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}${seconds}`
  }

  try {
    return parseFields(expression, fields)
  } catch (error) {
    if (error instanceof CronSyntaxError) {
      return error.message
    }
    throw error
  }
}

/** The first local day in [from, to] the expression matches, or null. */
export function cronDayAtOrAfter(cron: CronSpec, from: number, to: number): number | null {
  let day = from

  while (day <= to) {
    const date = new Date(day * DAY_MS)
    const year = date.getUTCFullYear()
    const month = date.getUTCMonth() + 1
    const dayOfMonth = date.getUTCDate()
    const length = daysInMonth(year, month)

    if (cron.months[month] !== true) {
      day += length - dayOfMonth + 1
      continue
    }
    if (matchesDay(cron, dayOfMonth, date.getUTCDay(), length)) {
      return day
    }
    day += 1
  }

  return null
}

/**
 * The instants of a matching local day's wall times, ascending and distinct: a wall time in a
 * spring-forward gap moves forward by the gap, one repeated by a fall-back takes its first
 * instant (see resolveWallTime), so each fires once.
 */
export function cronInstantsOnDay(cron: CronSpec, timeZone: string, day: number): number[] {
  const midnight = day * DAY_MS
  const resolve = wallTimeResolver(timeZone, midnight, midnight + DAY_MS - 1)
  const instants = cron.times.map((time) => resolve(midnight + time))

  // Only around a transition can two wall times share an instant (02:30 moved onto 03:30) or
  // swap order
  const ordered = instants.every((instant, i) => i === 0 || instant > (instants[i - 1] ?? 0))

  return ordered ? instants : [...new Set(instants)].sort((a, b) => a - b)
}

/** The occurrences of a parsed expression in a zone. */
export function cronSchedule(cron: CronSpec, timeZone: string): Schedule {
  return {
    next(after, limit) {
      // Offsets stay under a day, so the instants of local day d lie between the starts of
      // days d - 1 and d + 2 (a gap can push a wall time into the next day)
      const lastDay = Math.floor(limit / DAY_MS) + 1
      let day = Math.floor(after / DAY_MS) - 1
      let best: number | null = null

      for (;;) {
        const found = cronDayAtOrAfter(cron, day, lastDay)
        if (found === null || (best !== null && (found - 1) * DAY_MS > best)) {
          return best
        }

        const first = cronInstantsOnDay(cron, timeZone, found).find((instant) => instant > after)
        if (first !== undefined && (best === null || first < best)) {
          best = first
        }
        day = found + 1
      }
    },

    count(from, to, atMost) {
      const lastDay = Math.floor(to / DAY_MS) + 1
      let day = Math.floor(from / DAY_MS) - 1
      let total = 0
      // A gap can move a wall time onto one of the next day's: count that instant once
      let previous = { day: Number.NaN, instants: new Set<number>() }

      for (;;) {
        const found = cronDayAtOrAfter(cron, day, lastDay)
        if (found === null || total > atMost) {
          return total
        }

        const instants = cronInstantsOnDay(cron, timeZone, found)
        const seen = found === previous.day + 1 ? previous.instants : undefined
        for (const instant of instants) {
          if (instant > from && instant <= to && seen?.has(instant) !== true) {
            total += 1
          }
        }
        previous = { day: found, instants: new Set(instants) }
        day = found + 1
      }
    },
  }
}

function matchesDay(cron: CronSpec, dayOfMonth: number, weekday: number, length: number): boolean {
  const byDayOfMonth =
    cron.daysOfMonth[dayOfMonth] === true || (cron.lastDayOfMonth && dayOfMonth === length)
  const byWeekday =
    cron.weekdays[weekday] === true ||
    (cron.lastWeekdays[weekday] === true && dayOfMonth + 7 > length) ||
    cron.nthWeekdays.has(weekday * 8 + Math.ceil(dayOfMonth / 7))

  return cron.eitherDay ? byDayOfMonth || byWeekday : byDayOfMonth && byWeekday
}

function parseFields(expression: string, fields: string[]): CronSpec {
  const [minute = '', hour = '', dayOfMonth = '', month = '', dayOfWeek = ''] = fields
  const minutes = parseField(minute, MINUTE)
  const hours = parseField(hour, HOUR)
  const times: number[] = []
  hours.forEach((hourMatches, h) => {
    minutes.forEach((minuteMatches, m) => {
      if (hourMatches && minuteMatches) {
        times.push((h * 60 + m) * MINUTE_MS)
      }
    })
  })

  const days = parseDayOfMonth(dayOfMonth)
  const weekdays = parseDayOfWeek(dayOfWeek)
  const starred = (field: string): boolean => field.startsWith('*') || field === '?'

  return {
    expression,
    times,
    months: parseField(month, MONTH),
    ...days,
    ...weekdays,
    eitherDay: !starred(dayOfMonth) && !starred(dayOfWeek),
  }
}

function parseDayOfMonth(field: string): Pick<CronSpec, 'daysOfMonth' | 'lastDayOfMonth'> {
  const items = field === '?' ? ['*'] : field.split(',')
  const daysOfMonth = parseField(items.filter((item) => item !== 'L').join(','), DAY_OF_MONTH, true)

  return { daysOfMonth, lastDayOfMonth: items.includes('L') }
}

function parseDayOfWeek(
  field: string,
): Pick<CronSpec, 'weekdays' | 'lastWeekdays' | 'nthWeekdays'> {
  const weekdays: boolean[] = new Array<boolean>(7).fill(false)
  const lastWeekdays: boolean[] = new Array<boolean>(7).fill(false)
  const nthWeekdays = new Set<number>()

  for (const item of field === '?' ? ['*'] : field.split(',')) {
    const last = /^(\w+)L$/i.exec(item)
    const nth = /^(\w+)#(\d+)$/.exec(item)
    if (last?.[1] !== undefined) {
      lastWeekdays[parseValue(last[1], DAY_OF_WEEK) % 7] = true
    } else if (nth?.[1] !== undefined) {
      const n = Number(nth[2])
      if (n < 1 || n > 5) {
        throw new CronSyntaxError(`day of week ${item} asks for week ${n}; a month has at most 5`)
      }
      nthWeekdays.add((parseValue(nth[1], DAY_OF_WEEK) % 7) * 8 + n)
    } else {
      parseItem(item, DAY_OF_WEEK).forEach((value) => (weekdays[value % 7] = true))
    }
  }

  return { weekdays, lastWeekdays, nthWeekdays }
}

// Values the field allows, indexed by value; `allowEmpty` for a day-of-month field that
// held only `L`
function parseField(field: string, bounds: FieldBounds, allowEmpty = false): boolean[] {
  const values: boolean[] = new Array<boolean>(bounds.max + 1).fill(false)
  if (allowEmpty && field === '') {
    return values
  }

  for (const item of field.split(',')) {
    parseItem(item, bounds).forEach((value) => (values[value] = true))
  }

  return values
}

// `*`, `5`, `1-5`, each with an optional `/step`; `5/15` runs from 5 to the field's end
function parseItem(item: string, bounds: FieldBounds): number[] {
  const [range = '', step, extra] = item.split('/')
  if (extra !== undefined) {
    throw new CronSyntaxError(`${bounds.name} ${item} has more than one step`)
  }

  const stride = step === undefined ? 1 : Number(step)
  if (step !== undefined && (!/^\d+$/.test(step) || stride < 1)) {
    throw new CronSyntaxError(`${bounds.name} ${item} has a step that is not a positive integer`)
  }

  const [first = '', last, beyond] = range.split('-')
  if (beyond !== undefined) {
    throw new CronSyntaxError(`${bounds.name} ${item} is not a range`)
  }

  const from = range === '*' ? bounds.min : parseValue(first, bounds)
  const open = range === '*' || (last === undefined && step !== undefined)
  const to = open ? bounds.max : last === undefined ? from : parseValue(last, bounds)
  if (from > to) {
    throw new CronSyntaxError(`${bounds.name} ${item} runs backwards`)
  }

  const values: number[] = []
  for (let value = from; value <= to; value += stride) {
    values.push(value)
  }

  return values
}

function parseValue(text: string, bounds: FieldBounds): number {
  const named = bounds.names.indexOf(text.toUpperCase())
  if (named >= 0) {
    return named + bounds.firstName
  }

  const value = /^\d+$/.test(text) ? Number(text) : Number.NaN
  if (Number.isNaN(value)) {
    throw new CronSyntaxError(
      text === ''
        ? `${bounds.name} has an empty value`
        : `${bounds.name} ${text} is not a number${bounds.names.length > 0 ? ' or a name' : ''}`,
    )
  }
  if (value < bounds.min || value > bounds.max) {
    throw new CronSyntaxError(`${bounds.name} ${text} is outside ${bounds.min}-${bounds.max}`)
  }

  return value
}

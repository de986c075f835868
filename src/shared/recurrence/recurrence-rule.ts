// Recurrence rules of tasks: their shape (a JSON Schema for the API), their validation and the
// occurrences they produce in a time zone. Pure functions, shared by the backend (validation,
// the next-occurrence preview) and the recurrence worker (the next due date after a completion).
import { AppError } from '../errors.js'
import { isValidTimeZone, parseInstant } from '../time/wall-time.js'
import { type CronSpec, cronDayAtOrAfter, cronSchedule, parseCron } from './cron-schedule.js'
import { presetSchedule } from './preset-schedule.js'

export const recurrencePresets = ['daily', 'weekdays', 'weekly', 'monthly', 'yearly'] as const

export type RecurrencePreset = (typeof recurrencePresets)[number]

/** How a series ends: at most one of the two; with neither it runs forever. */
export interface RecurrenceEnd {
  /** An ISO 8601 instant with `Z` or an offset; no occurrence falls after it, the anchor included. */
  until?: string
  /** How many occurrences the series has, the anchor being the first. */
  count?: number
}

/**
 * A standard 5-field cron expression (minute hour day-of-month month day-of-week), read in the
 * series' time zone. Ranges, steps, lists, month and weekday names, `L` (last day of the month,
 * or `5L`: last Friday) and `#` (`1#2`: second Monday). When both day fields are restricted a
 * day matching either fires, as in Vixie cron; a field starting with `*` counts as unrestricted.
 */
export interface CronRecurrenceRule extends RecurrenceEnd {
  kind: 'cron'
  expression: string
}

/**
 * A calendar step from the anchor's local date and time: `daily`, `weekly` (the anchor's
 * weekday), `monthly` (the anchor's day of the month, or the month's last day when shorter),
 * `yearly` (the anchor's month and day; Feb 29 falls on Feb 28 in common years) and `weekdays`
 * (Monday to Friday).
 */
export interface PresetRecurrenceRule extends RecurrenceEnd {
  kind: 'preset'
  preset: RecurrencePreset
  /** Every how many days, weeks, months or years; 1 when not given. Not for `weekdays`. */
  interval?: number
}

export type RecurrenceRule = CronRecurrenceRule | PresetRecurrenceRule

/** A series of occurrences: a rule, the zone its wall times are read in, and where it starts. */
export interface RecurrenceSeries {
  rule: RecurrenceRule
  /** IANA time zone, such as `Europe/Madrid`. */
  timeZone: string
  /** The series' first due instant. It is occurrence 1 whether or not the rule matches it. */
  anchor: Date
}

export interface OccurrenceQuery extends RecurrenceSeries {
  /** Occurrences strictly after this instant are returned. */
  after: Date
}

export interface Occurrence {
  at: Date
  /** The occurrence's position in the series, from 1 (the anchor); what `count` limits. */
  ordinal: number
}

export interface CompletionInput extends RecurrenceSeries {
  /** The due date of the task just completed. */
  previousDue: Date
  /** Its ordinal (1 for the anchor), so counting resumes there rather than at the anchor. */
  previousOrdinal: number
  completedAt: Date
}

const MAX_INTERVAL = 1000
const MAX_EXPRESSION_LENGTH = 200
const DAY_MS = 86_400_000
// The Gregorian calendar repeats every 400 years (146097 days, a whole number of weeks): a day
// pattern that matches no day in one cycle matches none ever
const GREGORIAN_CYCLE_DAYS = 146_097
const SEARCH_HORIZON_MS = GREGORIAN_CYCLE_DAYS * DAY_MS

// A subschema for objects that have the property
function having<const Name extends string>(name: Name) {
  return { properties: { [name]: true } as { [key in Name]: true }, required: [name] as const }
}

/**
 * JSON Schema of {@link RecurrenceRule} for Fastify/ajv. `until` uses the `date-time` format
 * (ajv-formats). {@link validateRecurrenceRule} adds what a schema cannot say: cron syntax,
 * the time zone, and whether the rule ever fires.
 */
export const recurrenceRuleSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['kind'],
  properties: {
    kind: { type: 'string', enum: ['cron', 'preset'] },
    expression: { type: 'string', minLength: 1, maxLength: MAX_EXPRESSION_LENGTH },
    preset: { type: 'string', enum: [...recurrencePresets] },
    interval: { type: 'integer', minimum: 1, maximum: MAX_INTERVAL },
    until: { type: 'string', format: 'date-time' },
    count: { type: 'integer', minimum: 1 },
  },
  // if/then/else rather than oneOf: Fastify's ajv removes additional properties, which would
  // strip fields while trying the wrong branch of a oneOf. Properties named again beside each
  // `required` keep ajv's strictRequired mode quiet
  if: { properties: { kind: { const: 'cron' } } },
  then: { ...having('expression'), not: { anyOf: [having('preset'), having('interval')] } },
  else: { ...having('preset'), not: having('expression') },
  not: { properties: { until: true, count: true }, required: ['until', 'count'] },
} as const

/**
 * Checks a rule, typically from a request body, for use in `timeZone`.
 *
 * @throws AppError (400) with code `API_INVALID_RECURRENCE_RULE` (wrong shape), `API_INVALID_CRON`,
 *   `API_UNKNOWN_PRESET`, `API_INVALID_INTERVAL`, `API_INVALID_UNTIL`, `API_INVALID_COUNT`,
 *   `API_CONFLICTING_RULE_END` (both until and count), `API_UNKNOWN_TIME_ZONE` or
 *   `API_RULE_NEVER_FIRES` (`0 0 30 2 *`)
 */
export function validateRecurrenceRule(
  rule: unknown,
  timeZone: string,
): asserts rule is RecurrenceRule {
  const compiled = compileRule(rule, timeZone)

  if (
    compiled.kind === 'cron' &&
    cronDayAtOrAfter(compiled.cron, 0, GREGORIAN_CYCLE_DAYS - 1) === null
  ) {
    throw ruleError(
      'API_RULE_NEVER_FIRES',
      `cron expression never fires: ${compiled.cron.expression}`,
      { expression: compiled.cron.expression },
    )
  }
}

/**
 * The first occurrence of the series strictly after `query.after`, with its ordinal (counted
 * from the anchor); null when the series has ended by then.
 *
 * @throws AppError as {@link validateRecurrenceRule} for an invalid rule or zone
 */
export function nextOccurrence(query: OccurrenceQuery): Occurrence | null {
  const plan = planSeries(query)
  const found = occurrenceAfter(plan, instantOf(query.after, 'after'), firstOf(plan))

  return found === null ? null : toOccurrence(found)
}

/** The next `n` occurrences strictly after `query.after`; fewer when the series ends. */
export function nextOccurrences(query: OccurrenceQuery, n: number): Occurrence[] {
  const plan = planSeries(query)
  const found: Found[] = []
  let checkpoint = firstOf(plan)
  let after = instantOf(query.after, 'after')

  while (found.length < n) {
    const next = occurrenceAfter(plan, after, checkpoint)
    if (next === null) {
      break
    }
    found.push(next)
    checkpoint = next
    after = next.at
  }

  return found.map(toOccurrence)
}

/**
 * The due date of the task that follows a completed one: the first occurrence strictly after
 * the later of the previous due date and the completion time, so completing late never yields
 * an overdue task. Occurrences skipped that way still count towards `count`. Null when the
 * series has ended.
 */
export function nextDueAfterCompletion(
  input: CompletionInput,
): { due: Date; ordinal: number } | null {
  const plan = planSeries(input)
  const previousDue = instantOf(input.previousDue, 'previousDue')
  const completedAt = instantOf(input.completedAt, 'completedAt')
  const { previousOrdinal } = input

  if (!Number.isSafeInteger(previousOrdinal) || previousOrdinal < 1) {
    throw new AppError(
      'REC_INVALID_INPUT',
      `previousOrdinal is not a positive integer: ${previousOrdinal}`,
    )
  }

  const checkpoint = { at: previousDue, ordinal: previousOrdinal }
  const found = occurrenceAfter(plan, Math.max(previousDue, completedAt), checkpoint)

  return found === null ? null : { due: new Date(found.at), ordinal: found.ordinal }
}

type CompiledRule = (
  { kind: 'cron'; cron: CronSpec } | { kind: 'preset'; preset: RecurrencePreset; interval: number }
) & { until: number | undefined; count: number | undefined }

const CRON_FIELDS = ['kind', 'expression', 'until', 'count']
const PRESET_FIELDS = ['kind', 'preset', 'interval', 'until', 'count']

function compileRule(rule: unknown, timeZone: string): CompiledRule {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) {
    throw ruleError('API_INVALID_RECURRENCE_RULE', 'recurrence rule is not an object')
  }

  const fields = rule as Record<string, unknown>
  const { kind } = fields
  if (kind !== 'cron' && kind !== 'preset') {
    throw ruleError('API_INVALID_RECURRENCE_RULE', `unknown recurrence kind: ${shown(kind)}`)
  }

  const allowed = kind === 'cron' ? CRON_FIELDS : PRESET_FIELDS
  const unexpected = Object.keys(fields).find((name) => !allowed.includes(name))
  if (unexpected !== undefined) {
    throw ruleError(
      'API_INVALID_RECURRENCE_RULE',
      `${kind} rule has an unknown field: ${unexpected}`,
    )
  }

  if (!isValidTimeZone(timeZone)) {
    throw ruleError('API_UNKNOWN_TIME_ZONE', `unknown time zone: ${timeZone}`, { timeZone })
  }

  const end = compileEnd(fields)

  return kind === 'cron'
    ? { kind, cron: compileCron(fields), ...end }
    : { ...compilePreset(fields), ...end }
}

function compileCron(fields: Record<string, unknown>): CronSpec {
  const { expression } = fields
  if (typeof expression !== 'string' || expression.length > MAX_EXPRESSION_LENGTH) {
    throw ruleError(
      'API_INVALID_CRON',
      `cron expression is not a string of at most ${MAX_EXPRESSION_LENGTH} characters`,
    )
  }

  const parsed = parseCron(expression)
  if (typeof parsed === 'string') {
    throw ruleError('API_INVALID_CRON', `invalid cron expression "${expression}": ${parsed}`, {
      expression,
      reason: parsed,
    })
  }

  return parsed
}

function compilePreset(fields: Record<string, unknown>): {
  kind: 'preset'
  preset: RecurrencePreset
  interval: number
} {
  const { preset, interval = 1 } = fields
  const known = recurrencePresets.find((name) => name === preset)
  if (known === undefined) {
    throw ruleError('API_UNKNOWN_PRESET', `unknown preset: ${shown(preset)}`, {
      preset,
      presets: recurrencePresets,
    })
  }

  if (
    typeof interval !== 'number' ||
    !Number.isInteger(interval) ||
    interval < 1 ||
    interval > MAX_INTERVAL
  ) {
    throw ruleError(
      'API_INVALID_INTERVAL',
      `interval is not an integer from 1 to ${MAX_INTERVAL}: ${shown(interval)}`,
      { interval },
    )
  }
  // "Every 2nd weekday" has no agreed meaning
  if (known === 'weekdays' && interval !== 1) {
    throw ruleError('API_INVALID_INTERVAL', `interval does not apply to weekdays: ${interval}`, {
      interval,
    })
  }

  return { kind: 'preset', preset: known, interval }
}

function compileEnd(fields: Record<string, unknown>): {
  until: number | undefined
  count: number | undefined
} {
  const { until, count } = fields
  if (until !== undefined && count !== undefined) {
    throw ruleError('API_CONFLICTING_RULE_END', 'recurrence rule has both until and count')
  }

  const untilInstant = typeof until === 'string' ? parseInstant(until) : undefined
  if (until !== undefined && untilInstant === undefined) {
    throw ruleError('API_INVALID_UNTIL', `until is not an ISO 8601 instant: ${shown(until)}`, {
      until,
    })
  }

  if (
    count !== undefined &&
    (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1)
  ) {
    throw ruleError('API_INVALID_COUNT', `count is not a positive integer: ${shown(count)}`, {
      count,
    })
  }

  return { until: untilInstant, count }
}

// A client's value in a message: strings as they are, anything else as JSON
function shown(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')
}

function ruleError(code: string, message: string, details?: Record<string, unknown>): AppError {
  return new AppError(
    code,
    message,
    details === undefined ? { statusCode: 400 } : { statusCode: 400, details },
  )
}

/** Where a series' occurrences come from, apart from the anchor and its end. */
export interface Schedule {
  /** The first occurrence strictly after `after`; null when there is none up to `limit`. */
  next(after: number, limit: number): number | null
  /** How many occurrences fall in (from, to]; may stop counting once past `atMost`. */
  count(from: number, to: number, atMost: number): number
}

interface SeriesPlan {
  anchor: number
  until: number | undefined
  count: number | undefined
  schedule: Schedule
}

interface Found {
  at: number
  ordinal: number
}

function planSeries(series: RecurrenceSeries): SeriesPlan {
  const rule = compileRule(series.rule, series.timeZone)
  const anchor = instantOf(series.anchor, 'anchor')
  const schedule =
    rule.kind === 'cron'
      ? cronSchedule(rule.cron, series.timeZone)
      : presetSchedule(rule.preset, rule.interval, series.timeZone, anchor)

  return { anchor, until: rule.until, count: rule.count, schedule }
}

function firstOf(plan: SeriesPlan): Found {
  return { at: plan.anchor, ordinal: 1 }
}

// The series is the anchor, then every occurrence of the schedule after it. The ordinal is
// counted from `checkpoint`, an occurrence at or before `after` whose ordinal is known
function occurrenceAfter(plan: SeriesPlan, after: number, checkpoint: Found): Found | null {
  const { anchor, until = Infinity, count = Infinity, schedule } = plan
  if (after < anchor) {
    return anchor <= until ? firstOf(plan) : null
  }

  const at = schedule.next(after, Math.min(until, after + SEARCH_HORIZON_MS))
  if (at === null || at > until) {
    return null
  }

  const from = Math.max(checkpoint.at, anchor)
  const ordinal = checkpoint.ordinal + schedule.count(from, at, count - checkpoint.ordinal)

  return ordinal <= count ? { at, ordinal } : null
}

function instantOf(date: Date, name: string): number {
  const instant = date.getTime()
  if (Number.isNaN(instant)) {
    throw new AppError('REC_INVALID_INPUT', `${name} is not a valid date`)
  }

  return instant
}

function toOccurrence(found: Found): Occurrence {
  return { at: new Date(found.at), ordinal: found.ordinal }
}

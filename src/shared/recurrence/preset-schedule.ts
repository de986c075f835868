// Preset recurrences (daily, weekdays, weekly, monthly, yearly): calendar steps from the
// anchor's local date, at the anchor's local time.
import { daysInMonth, wallTimeAt, wallTimeResolver } from '../time/wall-time.js'
import type { RecurrencePreset, Schedule } from './recurrence-rule.js'

const DAY_MS = 86_400_000

/**
 * The occurrences of a preset series: occurrence k is k periods after the anchor's local date, at
 * the anchor's local time (occurrence 0 is the anchor itself). Computing each from the anchor
 * rather than from the one before keeps month-end clamping from drifting (Jan 31, Feb 28, Mar 31).
 */
export function presetSchedule(
  preset: RecurrencePreset,
  interval: number,
  timeZone: string,
  anchor: number,
): Schedule {
  const anchorWall = wallTimeAt(anchor, timeZone)
  const anchorDay = Math.floor(anchorWall / DAY_MS)
  const timeOfDay = anchorWall - anchorDay * DAY_MS
  const calendar = presetCalendar(preset, interval, anchorDay)

  const occurrence = (k: number): number => {
    const wall = calendar.dayOf(k) * DAY_MS + timeOfDay

    return k === 0 ? anchor : wallTimeResolver(timeZone, wall, wall)(wall)
  }

  // The smallest k whose occurrence is after `instant`, found from an estimate by the date
  const indexAfter = (instant: number): number => {
    if (instant < anchor) {
      return 0
    }

    const day = Math.floor(wallTimeAt(instant, timeZone) / DAY_MS)
    let k = Math.max(1, calendar.indexOn(day))
    while (k > 1 && occurrence(k - 1) > instant) {
      k -= 1
    }
    while (occurrence(k) <= instant) {
      k += 1
    }

    return k
  }

  return {
    next: (after) => occurrence(indexAfter(after)),
    count: (from, to) => indexAfter(to) - indexAfter(from),
  }
}

interface PresetCalendar {
  /** The local day (days since 1970-01-01) of occurrence k. */
  dayOf(k: number): number
  /** The k of the last occurrence on or before a local day, give or take one. */
  indexOn(day: number): number
}

function presetCalendar(
  preset: RecurrencePreset,
  interval: number,
  anchorDay: number,
): PresetCalendar {
  const start = new Date(anchorDay * DAY_MS)
  const year = start.getUTCFullYear()
  const month = start.getUTCMonth() + 1
  const dayOfMonth = start.getUTCDate()
  const monthIndex = (date: Date): number => date.getUTCFullYear() * 12 + date.getUTCMonth()

  switch (preset) {
    case 'daily':
    case 'weekly': {
      const period = preset === 'daily' ? interval : 7 * interval

      return {
        dayOf: (k) => anchorDay + k * period,
        indexOn: (day) => Math.floor((day - anchorDay) / period),
      }
    }
    case 'weekdays': {
      const base = weekdayIndex(anchorDay)

      return {
        dayOf: (k) => dayOfWeekdayIndex(base + k),
        indexOn: (day) => weekdayIndex(day) - base,
      }
    }
    case 'monthly':
      return {
        dayOf: (k) => {
          const target = monthIndex(start) + k * interval
          const targetYear = Math.floor(target / 12)
          const targetMonth = target - targetYear * 12 + 1

          return dayNumber(
            targetYear,
            targetMonth,
            Math.min(dayOfMonth, daysInMonth(targetYear, targetMonth)),
          )
        },
        indexOn: (day) =>
          Math.floor((monthIndex(new Date(day * DAY_MS)) - monthIndex(start)) / interval),
      }
    case 'yearly':
      return {
        dayOf: (k) => {
          const targetYear = year + k * interval

          return dayNumber(targetYear, month, Math.min(dayOfMonth, daysInMonth(targetYear, month)))
        },
        indexOn: (day) => Math.floor((new Date(day * DAY_MS).getUTCFullYear() - year) / interval),
      }
  }
}

// Weekdays (Monday to Friday) are numbered consecutively from Monday 1970-01-05, day 4
const FIRST_MONDAY = 4

function weekdayIndex(day: number): number {
  const week = Math.floor((day - FIRST_MONDAY) / 7)
  const weekday = day - FIRST_MONDAY - week * 7

  // Saturday and Sunday share Friday's index, so the next weekday is always index + 1
  return week * 5 + Math.min(weekday, 4)
}

function dayOfWeekdayIndex(index: number): number {
  const week = Math.floor(index / 5)

  return FIRST_MONDAY + week * 7 + (index - week * 5)
}

function dayNumber(year: number, month: number, day: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day))
  date.setUTCFullYear(year)

  return date.getTime() / DAY_MS
}

// A task's place in its recurring series: the one rule the recurrence role (which creates the
// next task) and the API (which shows when it will come) must apply alike.
import type { TaskSnapshot } from '../../events/catalogue.js'
import { nextDueAfterCompletion, type RecurrenceRule } from './recurrence-rule.js'

/**
 * The due date of the task after `task`: the first occurrence strictly after the later of its
 * due date and `completedAt`; null when the series has ended.
 *
 * `count` limits the position in the series (skipped occurrences included), which is not the
 * task's `occurrence` number once a late completion skipped some, so with a count the position
 * is counted from the anchor (bounded by the count). Without one it does not matter, and
 * counting from the task itself avoids a scan over every day since the anchor (~50 ms for a
 * daily cron series three years old).
 */
export function nextDueOf(
  task: Pick<TaskSnapshot, 'recurrence' | 'timeZone' | 'dueAt' | 'seriesAnchor' | 'occurrence'>,
  completedAt: Date,
): Date | null {
  const { recurrence, timeZone, dueAt, seriesAnchor, occurrence } = task
  if (recurrence === null || dueAt === null) {
    return null
  }

  const rule = recurrence as unknown as RecurrenceRule
  const due = new Date(dueAt)
  const anchor = seriesAnchor === null ? due : new Date(seriesAnchor)
  const fromTask = rule.count === undefined && occurrence !== null
  const next = nextDueAfterCompletion({
    rule,
    timeZone,
    anchor,
    previousDue: fromTask ? due : anchor,
    previousOrdinal: fromTask ? occurrence : 1,
    completedAt: new Date(Math.max(due.getTime(), completedAt.getTime())),
  })

  return next === null ? null : next.due
}

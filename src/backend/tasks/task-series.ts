// The series side of a task as the API shows it: when its next occurrence is due.
import type { TaskSnapshot } from '../../events/catalogue.js'
import { isAppError } from '../../shared/errors.js'
import {
  nextDueAfterCompletion,
  type RecurrenceRule,
} from '../../shared/recurrence/recurrence-rule.js'
import type { TaskResponse } from './task-schemas.js'

/**
 * The series' first occurrence strictly after the task's due date; null for a one-off task or a
 * series that has ended by then. This is what completing the task on time would create.
 */
export function nextOccurrenceAt(task: TaskSnapshot): string | null {
  const { recurrence, timeZone, dueAt, seriesAnchor, occurrence } = task
  if (recurrence === null || dueAt === null) {
    return null
  }

  const rule = recurrence as unknown as RecurrenceRule
  const due = new Date(dueAt)
  const anchor = seriesAnchor === null ? due : new Date(seriesAnchor)
  // Only `count` needs the position in the series, counted from the anchor; without one, start
  // at the task itself rather than scan every day since the anchor (see recurrence-worker.ts)
  const fromTask = rule.count === undefined && occurrence !== null
  try {
    const next = nextDueAfterCompletion({
      rule,
      timeZone,
      anchor,
      previousDue: fromTask ? due : anchor,
      previousOrdinal: fromTask ? occurrence : 1,
      completedAt: due,
    })

    return next === null ? null : next.due.toISOString()
  } catch (err) {
    // A stored rule that no longer validates must not break reading the task
    if (isAppError(err)) {
      return null
    }
    throw err
  }
}

export function toTaskResponse(task: TaskSnapshot): TaskResponse {
  return { ...task, nextOccurrenceAt: nextOccurrenceAt(task) }
}

// The series side of a task as the API shows it: when its next occurrence is due.
import type { TaskSnapshot } from '../../events/catalogue.js'
import { isAppError } from '../../shared/errors.js'
import { nextDueOf } from '../../shared/recurrence/task-recurrence.js'
import type { TaskResponse } from './task-schemas.js'

/**
 * The series' first occurrence strictly after the task's due date; null for a one-off task or a
 * series that has ended by then. This is what completing the task on time would create.
 */
export function nextOccurrenceAt(task: TaskSnapshot): string | null {
  try {
    const next = task.dueAt === null ? null : nextDueOf(task, new Date(task.dueAt))

    return next === null ? null : next.toISOString()
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

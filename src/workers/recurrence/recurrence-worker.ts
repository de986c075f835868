// The recurrence role: when a recurring task is completed, asks the backend (a
// `task.create.requested` command on `task-commands`) to create the series' next task.
//
// It publishes directly rather than through an outbox: it keeps no state of its own, and the
// command is a pure function of the completed event, so a redelivered event derives the same
// command with the same id, and the backend's unique (series, occurrence) insert makes a
// repeat a no-op. A failed publish throws a retryable error, so the event is not committed and
// comes back. An outbox would add a table write per command and buy nothing.
import { TOPICS, type EventPayload } from '../../events/catalogue.js'
import { createEvent, type AnyCloudEvent, type CloudEvent } from '../../events/cloud-event.js'
import { AppError, isAppError } from '../../shared/errors.js'
import { nameBasedUuid } from '../../shared/name-based-uuid.js'
import { nextDueOf } from '../../shared/recurrence/task-recurrence.js'
import type { RoleContext, RunningRole } from '../worker-role.js'

export const RECURRENCE_SOURCE = '/taskstream/recurrence'

// A fixed namespace for command ids (RFC 9562 §5.5 style): any process derives the same id
// for the same series and occurrence
const COMMAND_ID_NAMESPACE = '6f1c2a4e9b7d4c3e8a5f0d1b2c3e4f5a'

/** A UUID-shaped (version 5) id for the command that creates occurrence `occurrence`. */
export function occurrenceCommandId(seriesId: string, occurrence: number): string {
  return nameBasedUuid(COMMAND_ID_NAMESPACE, `${seriesId}/${occurrence}`)
}

type CompletedEvent = CloudEvent<'task.completed'>

function isCompleted(event: AnyCloudEvent): event is CompletedEvent {
  return event.type === 'task.completed'
}

/**
 * The command that creates the task after a completed one, or null when there is none (a
 * one-off task, or a series that has ended). Reopening and completing again yields the same
 * occurrence and id; if the later completion moves the due date, the first command to reach
 * the backend wins.
 */
export function nextOccurrenceCommand(
  event: CompletedEvent,
): CloudEvent<'task.create.requested'> | null {
  const { task } = event.data
  const { seriesId, seriesAnchor, occurrence, dueAt, recurrence } = task
  if (recurrence === null || seriesId === null || occurrence === null || dueAt === null) {
    return null
  }

  const completedAt = new Date(task.completedAt ?? event.time)
  let next: Date | null
  try {
    next = nextDueOf(task, completedAt)
  } catch (err) {
    // A stored rule the shared code now rejects: no retry mends it, so dead-letter the event
    const reason = isAppError(err) ? err.message : 'invalid recurrence'
    throw new AppError('WRK_RECURRENCE_INVALID_RULE', `task ${task.id} rule: ${reason}`, {
      cause: err,
    })
  }
  if (next === null) {
    return null
  }

  const data: EventPayload<'task.create.requested'> = {
    seriesId,
    occurrence: occurrence + 1,
    userId: task.userId,
    previousTaskId: task.id,
    dueAt: next.toISOString(),
    seriesAnchor: seriesAnchor ?? dueAt,
    title: task.title,
    description: task.description,
    priority: task.priority,
    tags: task.tags,
    timeZone: task.timeZone,
    reminderOffsetMinutes: task.reminderOffsetMinutes,
    recurrence,
  }

  return createEvent('task.create.requested', data, {
    source: RECURRENCE_SOURCE,
    key: seriesId,
    id: occurrenceCommandId(seriesId, occurrence + 1),
    time: completedAt,
  })
}

export async function startRecurrenceWorker(context: RoleContext): Promise<RunningRole> {
  const { bus, logger, group } = context
  const subscription = await bus.subscribe({
    group,
    topic: TOPICS.tasks,
    handle: async (events) => {
      const commands = events.filter(isCompleted).flatMap((event) => {
        const command = nextOccurrenceCommand(event)
        if (command === null && event.data.task.recurrence !== null) {
          logger.info({ taskId: event.data.task.id, eventId: event.id }, 'series ended')
        }

        return command === null ? [] : [command]
      })
      if (commands.length === 0) {
        return
      }

      try {
        await bus.publish(commands)
      } catch (err) {
        throw new AppError('WRK_RECURRENCE_PUBLISH_FAILED', 'could not publish task commands', {
          cause: err,
          retryable: true,
        })
      }
      for (const command of commands) {
        logger.info(
          {
            seriesId: command.data.seriesId,
            occurrence: command.data.occurrence,
            dueAt: command.data.dueAt,
            commandId: command.id,
          },
          'next occurrence requested',
        )
      }
    },
  })
  logger.info({ group }, 'recurrence role started')

  return {
    async stop() {
      await subscription.close()
      logger.info('recurrence role stopped')
    },
  }
}

// Takes `task.create.requested` commands off the task-commands topic (the recurrence role sends
// them) and creates each series' next task once: the (series, occurrence) unique index turns a
// repeated command into a no-op, so redelivery is harmless.
import { TOPICS } from '../../events/catalogue.js'
import type { AnyCloudEvent, CloudEvent } from '../../events/cloud-event.js'
import type { EventBus, Subscription } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../../shared/db/database.js'
import { AppError, isAppError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { TaskService, type Clock } from './task-service.js'

/**
 * The backend's consumer group for task commands, unless told otherwise. Only this consumer
 * uses it: kafkajs assigns a group's partitions as if every member subscribed to every topic,
 * so other backend consumers (notifications) keep groups of their own.
 */
export const DEFAULT_TASK_COMMANDS_GROUP = 'taskstream-backend'

type CreateRequested = CloudEvent<'task.create.requested'>

function isCreateRequested(event: AnyCloudEvent): event is CreateRequested {
  return event.type === 'task.create.requested'
}

export function startTaskCommandConsumer(options: {
  bus: EventBus
  database: DatabaseHandle
  logger: Logger
  group: string
  now?: Clock
}): Promise<Subscription> {
  const { bus, database, logger, group } = options
  const log = logger.child({ component: 'task-command-consumer' })
  const tasks = new TaskService(database.db, options.now)

  return bus.subscribe({
    group,
    topic: TOPICS.taskCommands,
    handle: async (events) => {
      for (const event of events.filter(isCreateRequested)) {
        await createOccurrence(tasks, event, log)
      }
    },
  })
}

async function createOccurrence(tasks: TaskService, event: CreateRequested, log: Logger) {
  const { seriesId, occurrence } = event.data
  let created
  try {
    created = await tasks.createOccurrence(event.data)
  } catch (err) {
    // A rule the backend rejects cannot be mended by a retry: dead-letter that command
    if (isAppError(err) && err.statusCode === 400) {
      throw new AppError('EVT_INVALID_TASK_COMMAND', `task command rejected: ${err.message}`, {
        cause: err,
      })
    }
    throw new AppError('DB_TASK_OCCURRENCE_WRITE_FAILED', 'could not create the next task', {
      cause: err,
      retryable: true,
    })
  }

  if (created === undefined) {
    log.debug({ seriesId, occurrence, eventId: event.id }, 'occurrence exists already')

    return
  }
  log.info(
    { seriesId, occurrence, taskId: created.id, dueAt: created.dueAt, eventId: event.id },
    'next occurrence created',
  )
}

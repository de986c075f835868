// Takes `reminder.fired` events off the notifications topic and stores them for their users.
// One consumer group for the whole backend: each event is stored once, by whichever replica
// holds its partition; every replica's hub then reads it from the table (LISTEN/NOTIFY).
import { TOPICS } from '../../events/catalogue.js'
import type { AnyCloudEvent, CloudEvent } from '../../events/cloud-event.js'
import type { EventBus, Subscription } from '../../events/event-bus.js'
import type { DatabaseHandle } from '../../shared/db/database.js'
import { AppError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { insertNotifications } from './notification-repository.js'

/**
 * The backend's consumer group for notifications, unless told otherwise. Its own group, not
 * the backend's: kafkajs assigns a group's partitions as if every member subscribed to every
 * topic, so a second backend consumer of another topic must not share it.
 */
export const DEFAULT_NOTIFICATIONS_GROUP = 'taskstream-backend-notifications'

function isReminderFired(event: AnyCloudEvent): event is CloudEvent<'reminder.fired'> {
  return event.type === 'reminder.fired'
}

export function startNotificationConsumer(options: {
  bus: EventBus
  database: DatabaseHandle
  logger: Logger
  group: string
}): Promise<Subscription> {
  const { bus, database, logger, group } = options
  const log = logger.child({ component: 'notification-consumer' })

  return bus.subscribe({
    group,
    topic: TOPICS.notifications,
    maxBatchSize: 500,
    handle: async (events) => {
      const fired = events.filter(isReminderFired)
      let stored: number
      try {
        stored = await insertNotifications(database.db, fired)
      } catch (err) {
        throw new AppError('DB_NOTIFICATION_WRITE_FAILED', 'could not store notifications', {
          cause: err,
          retryable: true,
        })
      }
      log.debug({ received: events.length, stored }, 'notifications stored')
    },
  })
}

// The HTTP shapes of notifications, shared by the list and the stream.
import Type, { type Static } from 'typebox'

import { EVENT_CATALOGUE } from '../../events/catalogue.js'
import type { StoredNotification } from './notification-repository.js'

export const NotificationSchema = Type.Object({
  /** Increases with every notification: the stream's event id and the list's order. */
  sequence: Type.Integer({ minimum: 1 }),
  id: Type.String({ description: 'the id of the event that brought it' }),
  type: Type.Literal('reminder.fired'),
  taskId: Type.String({ format: 'uuid' }),
  createdAt: Type.String({ format: 'date-time' }),
  data: EVENT_CATALOGUE['reminder.fired'].schema,
})
export type NotificationBody = Static<typeof NotificationSchema>

export const NotificationListResponse = Type.Object({
  items: Type.Array(NotificationSchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
})

export const ListNotificationsQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.String({ pattern: '^(?:[1-9]|[1-9][0-9]|100)$', description: '1 to 100, default 20' }),
    ),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
)

export const StreamHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({ pattern: '^\\d{1,15}$', description: 'the last sequence the client received' }),
  ),
})

export function toNotificationBody(notification: StoredNotification): NotificationBody {
  return {
    sequence: notification.sequence,
    id: notification.id,
    type: 'reminder.fired',
    taskId: notification.taskId,
    createdAt: notification.createdAt,
    data: notification.data as NotificationBody['data'],
  }
}

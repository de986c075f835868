// Builds the CloudEvents that describe task changes. The task id is the subject and the
// partition key, so one task's events stay in order on the `tasks` topic.
import type { TaskSnapshot } from '../../events/catalogue.js'
import { createEvent, type AnyCloudEvent } from '../../events/cloud-event.js'

export const BACKEND_SOURCE = '/taskstream/backend'

type TaskEventType = 'task.created' | 'task.deleted' | 'task.completed'

export function taskEvent(type: TaskEventType, task: TaskSnapshot, at: Date): AnyCloudEvent {
  const data = { task, version: task.version, userId: task.userId }

  return createEvent(type, data, { source: BACKEND_SOURCE, key: task.id, time: at })
}

export function taskUpdatedEvent(task: TaskSnapshot, changed: string[], at: Date): AnyCloudEvent {
  const data = { task, version: task.version, userId: task.userId, changed }

  return createEvent('task.updated', data, { source: BACKEND_SOURCE, key: task.id, time: at })
}

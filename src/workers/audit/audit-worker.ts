// The audit role: every task event becomes one row of `audit_entries`, written in batches.
// The event id is the key, so redelivery (or a batch holding an event twice) adds nothing.
import { TOPICS } from '../../events/catalogue.js'
import type { AnyCloudEvent } from '../../events/cloud-event.js'
import { insertAuditEntries, type TaskEvent } from '../../shared/audit/audit-repository.js'
import { AppError } from '../../shared/errors.js'
import type { RoleContext, RunningRole } from '../worker-role.js'

const TASK_EVENT_TYPES = new Set(['task.created', 'task.updated', 'task.deleted', 'task.completed'])

function isTaskEvent(event: AnyCloudEvent): event is TaskEvent {
  return TASK_EVENT_TYPES.has(event.type)
}

export async function startAuditWorker(context: RoleContext): Promise<RunningRole> {
  const { bus, database, logger, group } = context
  const subscription = await bus.subscribe({
    group,
    topic: TOPICS.tasks,
    maxBatchSize: 500,
    handle: async (events) => {
      const taskEvents = events.filter(isTaskEvent)
      let written: number
      try {
        written = await insertAuditEntries(database.db, taskEvents)
      } catch (err) {
        throw new AppError('WRK_AUDIT_WRITE_FAILED', 'could not write audit entries', {
          cause: err,
          retryable: true,
        })
      }
      logger.debug({ received: events.length, written }, 'audit batch written')
    },
  })
  logger.info({ group }, 'audit role started')

  return {
    async stop() {
      await subscription.close()
      logger.info('audit role stopped')
    },
  }
}

// The reminder role: keeps the schedule true from the task events and fires each reminder once,
// on time, as a `reminder.fired` event on the notifications topic. It runs its own outbox relay,
// woken the moment a claim commits, so events leave without waiting for another process.
import { TOPICS } from '../../events/catalogue.js'
import type { AnyCloudEvent, CloudEvent } from '../../events/cloud-event.js'
import { DaprStateStore } from '../../events/dapr/dapr-state-store.js'
import { OutboxRelay } from '../../shared/outbox/outbox-relay.js'
import type { RoleContext, RunningRole } from '../worker-role.js'
import { DaprReminderStore } from './dapr-reminder-store.js'
import { PgReminderStore } from './pg-reminder-store.js'
import {
  decideReminder,
  type Clock,
  type TaskChange,
  type TaskChangeType,
} from './reminder-schedule.js'
import { ReminderScheduler } from './reminder-scheduler.js'
import type { ReminderRecord, ReminderStore } from './reminder-store.js'

type TaskEvent = { [T in TaskChangeType]: CloudEvent<T> }[TaskChangeType]

const TASK_EVENT_TYPES = new Set<string>([
  'task.created',
  'task.updated',
  'task.completed',
  'task.deleted',
])

function isTaskEvent(event: AnyCloudEvent): event is TaskEvent {
  return TASK_EVENT_TYPES.has(event.type)
}

export interface ReminderWorkerOptions {
  /** Default: the system clock. Tests pass one they control. */
  clock?: Clock
  /** Default: the PostgreSQL store on the context's database. */
  store?: ReminderStore
  /** Reminders claimed per transaction. Default 500. */
  batchSize?: number
}

export interface RunningReminderWorker extends RunningRole {
  readonly scheduler: ReminderScheduler
  readonly store: ReminderStore
  readonly relay: OutboxRelay
}

/** Folds a batch of changes into one new record per task, in event order. */
export function decideBatch(
  changes: readonly TaskChange[],
  stored: ReadonlyMap<string, ReminderRecord>,
  now: Date,
): ReminderRecord[] {
  const current = new Map(stored)
  const changed = new Set<string>()
  for (const change of changes) {
    const decision = decideReminder(change, current.get(change.task.id), now)
    if (decision.action !== 'ignore') {
      current.set(change.task.id, decision.record)
      changed.add(change.task.id)
    }
  }

  return [...changed].flatMap((id) => current.get(id) ?? [])
}

function earliestScheduled(records: readonly ReminderRecord[]): Date | undefined {
  let earliest: Date | undefined
  for (const record of records) {
    if (record.status === 'scheduled' && record.remindAt !== null) {
      if (earliest === undefined || record.remindAt < earliest) {
        earliest = record.remindAt
      }
    }
  }

  return earliest
}

/** The schedule lives in the Dapr state store when Dapr carries the events, else in PostgreSQL. */
function defaultStore({ config, database }: RoleContext): ReminderStore {
  if (config.eventTransport !== 'dapr') {
    return new PgReminderStore(database.db)
  }

  const state = new DaprStateStore({
    httpPort: config.dapr.httpPort,
    storeName: config.dapr.stateStoreName,
  })

  return new DaprReminderStore(state, database.db)
}

export async function startReminderWorker(
  context: RoleContext,
  options: ReminderWorkerOptions = {},
): Promise<RunningReminderWorker> {
  const { bus, config, database, logger, group } = context
  const clock = options.clock ?? (() => new Date())
  const store = options.store ?? defaultStore(context)
  // Large batches: a burst of due reminders leaves in a few publishes.
  const relay = new OutboxRelay({
    database,
    bus,
    logger,
    sweepMs: config.outboxSweepMs,
    batchSize: 2_000,
  })
  const scheduler = new ReminderScheduler({
    store,
    logger,
    clock,
    sweepMs: config.reminderSweepMs,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    onFired: () => relay.wake(),
  })

  const handle = async (events: AnyCloudEvent[]) => {
    const changes: TaskChange[] = events
      .filter(isTaskEvent)
      .map((event) => ({ type: event.type, task: event.data.task, version: event.data.version }))
    if (changes.length === 0) {
      return
    }

    const now = clock()
    const ids = changes.map((change) => change.task.id)
    const saved = await store.update(ids, (stored) => decideBatch(changes, stored, now))
    const earliest = earliestScheduled(saved)
    if (earliest !== undefined) {
      scheduler.schedule(earliest)
    }
    logger.debug({ received: events.length, saved: saved.length }, 'reminder schedule updated')
  }

  await relay.start()
  const subscription = await bus.subscribe({
    group,
    topic: TOPICS.tasks,
    maxBatchSize: 500,
    handle,
  })
  // Safe before the backlog is consumed: a claim waits for task changes the store has not seen.
  scheduler.start()
  logger.info({ group }, 'reminder role started')

  return {
    scheduler,
    store,
    relay,
    async stop() {
      await subscription.close()
      await scheduler.stop()
      await relay.flush(5_000).catch((err: unknown) => {
        logger.warn({ err }, 'outbox not drained at stop; it is kept')
      })
      await relay.stop()
      logger.info('reminder role stopped')
    },
  }
}

// The reminder schedule in a Dapr state store (EVENT_TRANSPORT=dapr). One key per task holds
// its record; one index key maps every scheduled task to its reminder time, since the state
// API cannot query. Every write carries the ETag it read (first-write wins), and a conflict
// means another replica moved first: read again and decide again.
//
// The state store and the outbox (PostgreSQL) share no transaction, so the order of writes
// carries the guarantees instead:
// - the index is written before the records, so a scheduled record is always indexed (an
//   index entry whose record says otherwise is dropped by the next claim);
// - a claim writes `reminder.fired` to the outbox before it marks the record fired with its
//   ETag. A crash in between, or a replica that loses the race, leaves an event that has
//   the same id as the one that counts (derived from task and reminder time), and the
//   notification store keeps one per id: nothing is lost, and a user sees it once.
import type { Kysely } from 'kysely'

import { isStateConflict, type DaprStateStore } from '../../events/dapr/dapr-state-store.js'
import type { Database } from '../../shared/db/schema.js'
import { AppError } from '../../shared/errors.js'
import { enqueueEvents } from '../../shared/outbox/outbox-repository.js'
import { claimedReminderEvent, firedReminderOf } from './reminder-event.js'
import { findTasksAhead } from './reminder-repository.js'
import type {
  DecideReminders,
  FiredReminder,
  ReminderRecord,
  ReminderStore,
} from './reminder-store.js'

const INDEX_KEY = 'taskstream-reminder-index'
const UPCOMING = 16
const ATTEMPTS = 10

type StoredRecord = Omit<ReminderRecord, 'dueAt' | 'remindAt' | 'firedAt'> & {
  dueAt: string | null
  remindAt: string | null
  firedAt: string | null
}

/** Task id to reminder time (ISO) of every scheduled reminder. */
type ReminderIndex = Record<string, string>

const recordKey = (taskId: string) => `taskstream-reminder-${taskId}`
const toDate = (value: string | null) => (value === null ? null : new Date(value))
const toIso = (value: Date | null) => (value === null ? null : value.toISOString())

function fromStored(stored: StoredRecord): ReminderRecord {
  return {
    ...stored,
    dueAt: toDate(stored.dueAt),
    remindAt: toDate(stored.remindAt),
    firedAt: toDate(stored.firedAt),
  }
}

function toStored(record: ReminderRecord): StoredRecord {
  return {
    ...record,
    dueAt: toIso(record.dueAt),
    remindAt: toIso(record.remindAt),
    firedAt: toIso(record.firedAt),
  }
}

function conflictsExhausted(what: string, cause: unknown): AppError {
  return new AppError('WRK_REMINDER_STORE_CONFLICT', `reminder store kept conflicting: ${what}`, {
    cause,
    retryable: true,
  })
}

export class DaprReminderStore implements ReminderStore {
  readonly #state: DaprStateStore
  readonly #db: Kysely<Database>

  /** `db` holds the outbox and the tasks table the backlog check reads. */
  constructor(state: DaprStateStore, db: Kysely<Database>) {
    this.#state = state
    this.#db = db
  }

  async update(taskIds: readonly string[], decide: DecideReminders): Promise<ReminderRecord[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#updateOnce([...new Set(taskIds)], decide)
      } catch (err) {
        if (!isStateConflict(err)) {
          throw err
        }
        if (attempt >= ATTEMPTS) {
          throw conflictsExhausted('save the schedule', err)
        }
      }
    }
  }

  async #updateOnce(taskIds: string[], decide: DecideReminders): Promise<ReminderRecord[]> {
    const entries = await Promise.all(
      taskIds.map((id) => this.#state.get<StoredRecord>(recordKey(id))),
    )
    const stored = new Map<string, ReminderRecord>()
    const etags = new Map<string, string>()
    for (const entry of entries) {
      if (entry !== undefined) {
        stored.set(entry.value.taskId, fromStored(entry.value))
        etags.set(entry.value.taskId, entry.etag)
      }
    }

    const decided = decide(stored).filter(
      (record) => record.taskVersion > (stored.get(record.taskId)?.taskVersion ?? 0),
    )
    if (decided.length === 0) {
      return []
    }

    await this.#changeIndex((index) => {
      for (const record of decided) {
        if (record.status === 'scheduled' && record.remindAt !== null) {
          index[record.taskId] = record.remindAt.toISOString()
        } else {
          delete index[record.taskId]
        }
      }
    })
    for (const record of decided) {
      await this.#state.save(recordKey(record.taskId), toStored(record), etags.get(record.taskId))
    }

    return decided
  }

  async claimDue(
    dueBy: Date,
    limit: number,
    fireTime?: (upcoming: readonly Date[]) => Promise<Date | undefined>,
  ): Promise<FiredReminder[]> {
    const index = (await this.#state.get<ReminderIndex>(INDEX_KEY))?.value ?? {}
    const due = Object.entries(index)
      .filter(([, at]) => new Date(at) <= dueBy)
      .sort(([, a], [, b]) => a.localeCompare(b))
      .slice(0, limit)
    if (due.length === 0) {
      return []
    }

    const records = await this.#dueRecords(
      due.map(([taskId]) => taskId),
      dueBy,
    )
    if (records.length === 0) {
      return []
    }

    // Never early: a fire time before `dueBy` gives the reminders back.
    const now = fireTime === undefined ? dueBy : await fireTime(upcomingAfter(index, dueBy))
    if (now === undefined || now < dueBy) {
      return []
    }

    const events = records.map(({ record }) => claimedReminderEvent(record, now))
    await this.#db.transaction().execute((trx) => enqueueEvents(trx, events))

    const fired: FiredReminder[] = []
    for (const [i, { record, etag }] of records.entries()) {
      const event = events[i]
      try {
        const done: ReminderRecord = { ...record, status: 'fired', reason: null, firedAt: now }
        await this.#state.save(recordKey(record.taskId), toStored(done), etag)
      } catch (err) {
        // Another replica fired it (its event has this same id), or the task changed.
        if (isStateConflict(err)) {
          continue
        }
        throw err
      }
      if (event !== undefined) {
        fired.push(firedReminderOf(event))
      }
    }
    await this.#dropFromIndex(records.map(({ record }) => record.taskId)).catch((err: unknown) => {
      // A later claim finds the records fired and drops the entries then.
      if (!isStateConflict(err)) {
        throw err
      }
    })

    return fired
  }

  /** The scheduled records among `taskIds` that may fire now; stale index entries are dropped. */
  async #dueRecords(taskIds: string[], dueBy: Date) {
    const entries = await Promise.all(
      taskIds.map((id) => this.#state.get<StoredRecord>(recordKey(id))),
    )
    const live = entries.flatMap((entry) => {
      const record = entry === undefined ? undefined : fromStored(entry.value)
      const due =
        record?.status === 'scheduled' && record.remindAt !== null && record.remindAt <= dueBy

      return entry !== undefined && record !== undefined && due
        ? [{ record, etag: entry.etag }]
        : []
    })
    const stale = taskIds.filter((id) => !live.some(({ record }) => record.taskId === id))
    if (stale.length > 0) {
      await this.#dropFromIndex(stale).catch(() => undefined)
    }

    const waiting = await findTasksAhead(
      this.#db,
      live.map(({ record }) => record),
    )

    return live.filter(({ record }) => !waiting.has(record.taskId))
  }

  async #dropFromIndex(taskIds: readonly string[]): Promise<void> {
    await this.#changeIndex((index) => {
      for (const id of taskIds) {
        delete index[id]
      }
    })
  }

  async #changeIndex(change: (index: ReminderIndex) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const entry = await this.#state.get<ReminderIndex>(INDEX_KEY)
      const index = { ...(entry?.value ?? {}) }
      change(index)
      try {
        await this.#state.save(INDEX_KEY, index, entry?.etag)

        return
      } catch (err) {
        if (!isStateConflict(err) || attempt >= ATTEMPTS) {
          throw isStateConflict(err) ? conflictsExhausted('update the index', err) : err
        }
      }
    }
  }

  async nextDueAt(): Promise<Date | undefined> {
    const index = (await this.#state.get<ReminderIndex>(INDEX_KEY))?.value ?? {}

    return upcomingAfter(index, undefined)[0]
  }

  async get(taskId: string): Promise<ReminderRecord | undefined> {
    const entry = await this.#state.get<StoredRecord>(recordKey(taskId))

    return entry === undefined ? undefined : fromStored(entry.value)
  }
}

/** The next distinct reminder times in the index, after `after` when given. */
function upcomingAfter(index: ReminderIndex, after: Date | undefined): Date[] {
  const times = [...new Set(Object.values(index))]
    .map((at) => new Date(at))
    .filter((at) => after === undefined || at > after)
    .sort((a, b) => a.getTime() - b.getTime())

  return times.slice(0, UPCOMING)
}

// The reminder schedule in PostgreSQL (the direct mode). Claiming, marking fired and writing
// `reminder.fired` to the outbox share one transaction: a reminder is fired and announced
// together, or not at all.
import type { Kysely } from 'kysely'

import type { Database } from '../../shared/db/schema.js'
import { AppError } from '../../shared/errors.js'
import { enqueueEvents } from '../../shared/outbox/outbox-repository.js'
import { claimedReminderEvent, firedReminderOf } from './reminder-event.js'
import {
  findNextDueAt,
  findReminder,
  findUpcoming,
  lockDueReminders,
  lockReminders,
  markFired,
  toRecord,
  upsertReminders,
} from './reminder-repository.js'
import type {
  DecideReminders,
  FiredReminder,
  ReminderRecord,
  ReminderStore,
} from './reminder-store.js'

// Reminder times looked ahead during an early claim, so the claimer can arm for each.
const UPCOMING = 16

function storeFailed(what: string, cause: unknown): AppError {
  return new AppError('WRK_REMINDER_STORE_FAILED', `reminder store could not ${what}`, {
    cause,
    retryable: true,
  })
}

export class PgReminderStore implements ReminderStore {
  readonly #db: Kysely<Database>

  constructor(db: Kysely<Database>) {
    this.#db = db
  }

  async update(taskIds: readonly string[], decide: DecideReminders): Promise<ReminderRecord[]> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const rows = await lockReminders(trx, [...new Set(taskIds)])
        const stored = new Map(rows.map((row) => [row.task_id, toRecord(row)]))
        const written = await upsertReminders(trx, decide(stored), new Date())

        return written.map(toRecord)
      })
    } catch (err) {
      throw storeFailed('save the schedule', err)
    }
  }

  async claimDue(
    dueBy: Date,
    limit: number,
    fireTime?: (upcoming: readonly Date[]) => Promise<Date | undefined>,
  ): Promise<FiredReminder[]> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        const rows = await lockDueReminders(trx, dueBy, limit)
        if (rows.length === 0) {
          return []
        }

        // Never early: a fire time before `dueBy` gives the reminders back.
        const now =
          fireTime === undefined ? dueBy : await fireTime(await findUpcoming(trx, dueBy, UPCOMING))
        if (now === undefined || now < dueBy) {
          return []
        }

        const events = rows.map((row) => claimedReminderEvent(toRecord(row), now))
        await markFired(
          trx,
          rows.map((row) => row.task_id),
          now,
        )
        await enqueueEvents(trx, events)

        return events.map(firedReminderOf)
      })
    } catch (err) {
      throw storeFailed('claim due reminders', err)
    }
  }

  async nextDueAt(): Promise<Date | undefined> {
    try {
      return await findNextDueAt(this.#db)
    } catch (err) {
      throw storeFailed('read the next reminder time', err)
    }
  }

  async get(taskId: string): Promise<ReminderRecord | undefined> {
    const row = await findReminder(this.#db, taskId)

    return row === undefined ? undefined : toRecord(row)
  }
}

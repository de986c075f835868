// The reminder role's state store: the schedule, one record per task. PostgreSQL implements it
// in the direct mode (pg-reminder-store.ts); a Dapr state store can implement it too, so
// nothing here mentions SQL or kysely.

export type ReminderStatus = 'scheduled' | 'fired' | 'cancelled' | 'skipped'

/** What the store keeps about one task's reminder. */
export interface ReminderRecord {
  taskId: string
  userId: string
  title: string
  dueAt: Date | null
  /** When the reminder is (or was) due: `dueAt` minus the task's reminder offset. */
  remindAt: Date | null
  /** The task version that produced this record; events at or below it change nothing. */
  taskVersion: number
  status: ReminderStatus
  /** Why the reminder was cancelled or skipped ('task completed', 'overdue when scheduled'). */
  reason: string | null
  /** When the reminder fired for `remindAt`; kept when it is later cancelled. */
  firedAt: Date | null
}

/** A reminder the store claimed and marked fired, with the id of its `reminder.fired` event. */
export interface FiredReminder {
  eventId: string
  taskId: string
  userId: string
  remindAt: Date
  firedAt: Date
  /** `firedAt - remindAt`, never negative. */
  lateMs: number
}

/** Decides the new records from the stored ones of the same tasks (absent: none stored). */
export type DecideReminders = (stored: ReadonlyMap<string, ReminderRecord>) => ReminderRecord[]

export interface ReminderStore {
  /**
   * Reads the records of `taskIds`, passes them to `decide` and saves what it returns, as one
   * atomic step: a claim cannot fire a reminder between the read and the write, so a change
   * decided on a scheduled reminder never overwrites one that has just fired. A returned record
   * whose `taskVersion` is not above the stored one is dropped. Resolves to the saved records.
   */
  update(taskIds: readonly string[], decide: DecideReminders): Promise<ReminderRecord[]>
  /**
   * Claims up to `limit` scheduled reminders due by `dueBy` (oldest first), marks them fired
   * and enqueues their `reminder.fired` events, atomically: concurrent claimers (other
   * replicas) never claim the same reminder. A reminder whose task has changed in a way this
   * store has not applied yet waits for that change.
   *
   * Both stores learn that from the tasks table (the Dapr store keeps its PostgreSQL handle
   * for it and for the outbox). In the Dapr store a lost race can enqueue a second event, with
   * the same id as the winner's: consumers keep one per id.
   *
   * They fire at `dueBy`, or, when `fireTime` is given, at the time it resolves to: it is
   * called once the reminders are held, with the next few reminder times after `dueBy`, so a
   * claimer can take them a little before they are due, arm itself for the next ones, and fire
   * them the moment they are due. `undefined`, or a time before `dueBy`, gives them back.
   */
  claimDue(
    dueBy: Date,
    limit: number,
    fireTime?: (upcoming: readonly Date[]) => Promise<Date | undefined>,
  ): Promise<FiredReminder[]>
  /** The earliest `remindAt` of a scheduled reminder, or undefined when none is scheduled. */
  nextDueAt(): Promise<Date | undefined>
  get(taskId: string): Promise<ReminderRecord | undefined>
}

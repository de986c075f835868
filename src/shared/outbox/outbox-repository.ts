// The transactional outbox (https://microservices.io/patterns/data/transactional-outbox.html):
// events are written in the same transaction as the change they describe, so neither is lost
// without the other; the relay publishes them afterwards.
import { sql, type Kysely, type Transaction } from 'kysely'

import type { AnyCloudEvent } from '../../events/cloud-event.js'
import { topicOf } from '../../events/catalogue.js'
import type { Database } from '../db/schema.js'

/** The channel the relay listens on; every enqueue notifies it when its transaction commits. */
export const OUTBOX_CHANNEL = 'taskstream_outbox'

export interface OutboxRow {
  id: string
  event: AnyCloudEvent
}

export async function enqueueEvents(
  trx: Transaction<Database>,
  events: readonly AnyCloudEvent[],
): Promise<void> {
  if (events.length === 0) {
    return
  }

  await trx
    .insertInto('outbox')
    .values(
      events.map((event) => ({
        topic: topicOf(event.type),
        key: event.partitionkey,
        event: JSON.stringify(event),
      })),
    )
    .execute()
  await sql`select pg_notify(${OUTBOX_CHANNEL}, '')`.execute(trx)
}

/**
 * Takes the relay's lock for this transaction. Only one relay publishes at a time, so events
 * leave in the order they were written, whatever the number of backend replicas.
 */
export async function tryLockRelay(trx: Transaction<Database>): Promise<boolean> {
  const result = await sql<{
    locked: boolean
  }>`select pg_try_advisory_xact_lock(7423001) as locked`.execute(trx)

  return result.rows[0]?.locked === true
}

export async function fetchUnsent(trx: Transaction<Database>, limit: number): Promise<OutboxRow[]> {
  const rows = await trx
    .selectFrom('outbox')
    .select(['id', 'event'])
    .where('sent_at', 'is', null)
    .orderBy('id')
    .limit(limit)
    .execute()

  return rows.map((row) => ({ id: String(row.id), event: row.event as unknown as AnyCloudEvent }))
}

export async function markSent(trx: Transaction<Database>, ids: readonly string[]): Promise<void> {
  await trx.updateTable('outbox').set({ sent_at: new Date() }).where('id', 'in', ids).execute()
}

/** Deletes what was sent longer ago than `olderThanMs`; returns how many rows went. */
export async function pruneSent(db: Kysely<Database>, olderThanMs: number): Promise<number> {
  const result = await db
    .deleteFrom('outbox')
    .where('sent_at', '<', new Date(Date.now() - olderThanMs))
    .executeTakeFirst()

  return Number(result.numDeletedRows)
}

export async function countUnsent(db: Kysely<Database>): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('sent_at', 'is', null)
    .executeTakeFirst()

  return Number(row?.n ?? 0)
}

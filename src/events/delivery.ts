// How every adapter delivers a batch: invalid messages and events no retry can mend go to
// the dead-letter topic with their reason; transient failures back off and retry.
import { isAppError } from '../shared/errors.js'
import type { Logger } from '../shared/logger.js'
import type { AnyCloudEvent } from './cloud-event.js'
import { DEFAULT_RETRY_POLICY, type EventBatchHandler, type RetryPolicy } from './event-bus.js'
import { parseEvent } from './event-validator.js'

/** One message as the transport delivered it. */
export interface RawMessage {
  body: Buffer | string | null
  /** Transport position, for logs (a Kafka offset). */
  position: string
}

/** A message that goes to the dead-letter topic, and why. */
export interface DeadLetter {
  message: RawMessage
  eventId: string | undefined
  reason: string
}

export interface DeliveryContext {
  handle: EventBatchHandler
  retry: RetryPolicy
  log: Logger
  /** Writes dead letters; must throw if it could not, so the batch is not committed. */
  deadLetter: (letters: DeadLetter[]) => Promise<void>
  /** False once the subscription is closing or lost its partition: stop retrying. */
  isActive: () => boolean
  /** Keeps the transport's session alive during long retries. */
  heartbeat?: () => Promise<void>
}

export function resolveRetryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...partial }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    return isAppError(err) ? `${err.code}: ${err.message}` : err.message
  }

  return String(err)
}

type Outcome = { ok: true } | { ok: false; reason: string } | { ok: 'inactive' }

/**
 * Calls the handler until it succeeds, fails in a way a retry cannot mend, or the
 * subscription stops being active.
 */
async function attempt(events: AnyCloudEvent[], ctx: DeliveryContext): Promise<Outcome> {
  let delayMs = ctx.retry.initialDelayMs
  let unknownFailures = 0

  for (;;) {
    try {
      await ctx.handle(events)

      return { ok: true }
    } catch (err) {
      const known = isAppError(err)
      if (known && !err.retryable) {
        return { ok: false, reason: reasonOf(err) }
      }

      unknownFailures += known ? 0 : 1
      if (unknownFailures >= ctx.retry.maxUnknownAttempts) {
        return { ok: false, reason: `retries exhausted: ${reasonOf(err)}` }
      }

      ctx.log.warn({ err, events: events.length, delayMs }, 'handler failed, retrying')
      await sleep(delayMs)
      delayMs = Math.min(delayMs * 2, ctx.retry.maxDelayMs)
      if (!ctx.isActive()) {
        return { ok: 'inactive' }
      }
      await ctx.heartbeat?.()
    }
  }
}

/**
 * Delivers one batch. Resolves true when every message is handled or dead-lettered (commit),
 * false when the subscription stopped first (do not commit; the batch is redelivered).
 */
export async function deliverBatch(messages: RawMessage[], ctx: DeliveryContext): Promise<boolean> {
  const letters: DeadLetter[] = []
  const parsed: { event: AnyCloudEvent; message: RawMessage }[] = []
  for (const message of messages) {
    try {
      parsed.push({ event: parseEvent(message.body), message })
    } catch (err) {
      letters.push({ message, eventId: undefined, reason: reasonOf(err) })
    }
  }

  const rejected = await handleParsed(parsed, ctx)
  if (rejected === undefined) {
    return false
  }

  letters.push(...rejected)
  if (letters.length > 0) {
    for (const letter of letters) {
      ctx.log.error(
        { eventId: letter.eventId, position: letter.message.position, reason: letter.reason },
        'event dead-lettered',
      )
    }
    await ctx.deadLetter(letters)
  }

  return true
}

/** Hands the valid events over; returns the ones to dead-letter, or undefined if stopped. */
async function handleParsed(
  parsed: { event: AnyCloudEvent; message: RawMessage }[],
  ctx: DeliveryContext,
): Promise<DeadLetter[] | undefined> {
  if (parsed.length === 0) {
    return []
  }

  const outcome = await attempt(
    parsed.map((p) => p.event),
    ctx,
  )
  if (outcome.ok === 'inactive') {
    return undefined
  }
  if (outcome.ok === true) {
    return []
  }

  // One event spoiled the batch: hand them over one by one so only that one is set aside.
  const letters: DeadLetter[] = []
  for (const { event, message } of parsed) {
    const single = parsed.length === 1 ? outcome : await attempt([event], ctx)
    if (single.ok === 'inactive') {
      return undefined
    }
    if (single.ok === false) {
      letters.push({ message, eventId: event.id, reason: single.reason })
    }
  }

  return letters
}

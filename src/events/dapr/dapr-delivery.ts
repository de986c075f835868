// What the sidecar delivers to a subscription route, and what the app answers. Dapr pushes one
// event per request and owns the retry loop (resiliency policy, then the dead-letter topic), so
// each request is one attempt: https://docs.dapr.io/reference/api/pubsub_api/
import type { Logger } from '../../shared/logger.js'
import { isEventType } from '../catalogue.js'
import { deliverBatch, type RawMessage } from '../delivery.js'
import type { EventBatchHandler, EventRouteReply } from '../event-bus.js'

/** The statuses a subscriber may answer with a 2xx. */
export type DaprDeliveryStatus = 'SUCCESS' | 'RETRY' | 'DROP'

/**
 * Attributes the sidecar adds to a CloudEvent it forwards (pubsub-cloudevents.md). They are not
 * ours, and our envelope schema admits no extra attributes, so they are removed before checking.
 */
export const DAPR_ADDED_ATTRIBUTES = [
  'topic',
  'pubsubname',
  'traceid',
  'traceparent',
  'tracestate',
] as const

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Recovers the CloudEvent we published from the body Dapr delivered, whichever way it came:
 * - our event as sent, plus Dapr's attributes (published as application/cloudevents+json);
 * - our event base64-encoded in `data_base64` (published or subscribed with rawPayload);
 * - our event as the `data` of an envelope Dapr made (published as plain application/json).
 * Anything else is returned as it came, for the validator to reject with its reason.
 */
export function unwrapDaprEvent(body: string): string {
  let value: unknown
  try {
    value = JSON.parse(body)
  } catch {
    return body
  }
  if (!isRecord(value)) {
    return body
  }

  if (typeof value.data_base64 === 'string' && value.data === undefined) {
    return Buffer.from(value.data_base64, 'base64').toString('utf8')
  }

  const type = value.type
  if ((typeof type !== 'string' || !isEventType(type)) && isRecord(value.data)) {
    if (value.data.specversion !== undefined) {
      return JSON.stringify(value.data)
    }
  }

  const event = { ...value }
  for (const attribute of DAPR_ADDED_ATTRIBUTES) {
    delete event[attribute]
  }

  return JSON.stringify(event)
}

/** The reply Dapr expects: 200 with a status body (a 404 would drop without dead-lettering). */
export function daprReply(status: DaprDeliveryStatus): EventRouteReply {
  return { status: 200, body: { status } }
}

/**
 * Hands one delivered event to a handler once, reusing the shared delivery rules: invalid events
 * and failures marked not retryable are dead letters (DROP: Dapr moves them to the
 * subscription's dead-letter topic and we log the reason); any other failure is RETRY, and
 * Dapr's resiliency policy decides when to stop.
 */
export async function deliverOnce(
  message: RawMessage,
  handle: EventBatchHandler,
  log: Logger,
): Promise<DaprDeliveryStatus> {
  let dropped = false
  const done = await deliverBatch([message], {
    handle,
    // Never retry in-process: each attempt is a request Dapr repeats by its own policy.
    retry: { initialDelayMs: 0, maxDelayMs: 0, maxUnknownAttempts: 2 },
    log,
    isActive: () => false,
    deadLetter: (letters) => {
      dropped = letters.length > 0

      return Promise.resolve()
    },
  })
  if (!done) {
    return 'RETRY'
  }

  return dropped ? 'DROP' : 'SUCCESS'
}

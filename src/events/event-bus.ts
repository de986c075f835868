// The one seam between taskstream and its broker. The backend and the workers see only this
// interface; the Kafka, Dapr and in-process adapters map it to and from their transports.
import type { TopicName } from './catalogue.js'
import type { AnyCloudEvent } from './cloud-event.js'

/** What a handler receives: valid events from one topic partition, oldest first. */
export type EventBatchHandler = (events: AnyCloudEvent[]) => Promise<void>

export interface RetryPolicy {
  /** First back-off, in milliseconds. Default 200. */
  initialDelayMs: number
  /** Longest back-off, in milliseconds. Default 10,000. */
  maxDelayMs: number
  /**
   * Attempts for failures that do not say whether they are retryable (plain errors), before
   * the event is dead-lettered. Failures marked `retryable` are retried while the
   * subscription runs: a database that is down must not turn into dead letters. Default 5.
   */
  maxUnknownAttempts: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  initialDelayMs: 200,
  maxDelayMs: 10_000,
  maxUnknownAttempts: 5,
}

export interface SubscribeOptions {
  /** The consumer group: every group sees every event once; members of one group share them. */
  group: string
  topic: TopicName
  /**
   * Receives valid events in order. Succeeding commits them (at-least-once: a crash before
   * that redelivers them, so handlers must be idempotent). Throwing an error marked not
   * retryable sends the offending event to the dead-letter topic; other errors back off and
   * retry.
   */
  handle: EventBatchHandler
  /** Largest batch handed to `handle`. Default 100. */
  maxBatchSize?: number
  retry?: Partial<RetryPolicy>
}

export interface Subscription {
  /** Stops fetching, lets the batch in hand finish and commit, and leaves the group. */
  close(): Promise<void>
}

/** What an event route answers: an HTTP status and a JSON body. */
export interface EventRouteReply {
  status: number
  body: unknown
}

/**
 * An HTTP route a push-based adapter needs on the app's own server (Dapr delivers events to the
 * app). Transport-neutral: the servers mount these without knowing which adapter runs.
 */
export interface EventRoute {
  method: 'GET' | 'POST'
  url: string
  /** Receives the request body as text (undefined for GET) and decides the answer. */
  handle(body: string | undefined): Promise<EventRouteReply>
}

export interface EventBus {
  /** Which adapter this is, for logs and readiness answers. */
  readonly transport: 'kafka' | 'in-process' | 'dapr'
  /** Creates the topics and their dead-letter topics if missing; never relies on auto-creation. */
  ensureTopics(topics: readonly TopicName[]): Promise<void>
  /**
   * Validates and publishes events, each to its type's topic, keyed by its partition key,
   * in the order given. Resolves once the broker has acknowledged every one.
   */
  publish(events: readonly AnyCloudEvent[]): Promise<void>
  subscribe(options: SubscribeOptions): Promise<Subscription>
  /** Throws when the broker cannot be reached. */
  ping(): Promise<void>
  /** Closes every subscription and connection. */
  close(): Promise<void>
  /**
   * Routes the process's HTTP server must serve for this adapter to receive events; absent for
   * pull-based adapters. Fixed for the adapter's lifetime, so servers mount them before listening.
   */
  routes?(): readonly EventRoute[]
}

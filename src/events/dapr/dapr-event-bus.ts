// The Dapr adapter: publishes through the local sidecar and receives what the sidecar pushes to
// the app's routes (/events/<topic>, subscribed declaratively in the DOKS overlay). Topics, the
// consumer group (the app id) and dead-lettering belong to the platform. See docs/dapr.md.
import type { DaprClient } from '@dapr/dapr'

import { AppError } from '../../shared/errors.js'
import type { Logger } from '../../shared/logger.js'
import { TOPICS, topicOf, type TopicName } from '../catalogue.js'
import { CLOUDEVENTS_CONTENT_TYPE, type AnyCloudEvent } from '../cloud-event.js'
import type {
  EventBatchHandler,
  EventBus,
  EventRoute,
  SubscribeOptions,
  Subscription,
} from '../event-bus.js'
import { validateEvent } from '../event-validator.js'
import {
  daprReply,
  deliverOnce,
  unwrapDaprEvent,
  type DaprDeliveryStatus,
} from './dapr-delivery.js'
import { callSidecar, createDaprClient, type DaprSidecarOptions } from './dapr-sidecar.js'

export interface DaprEventBusOptions extends DaprSidecarOptions {
  /** The pub/sub component (DAPR_PUBSUB_NAME, `taskevents`). */
  pubsubName: string
  /** Prepended to every topic name, as in the Kafka adapter. Default ''. */
  topicPrefix?: string
}

/** The route the sidecar delivers a topic's events to; subscriptions.yaml names the same. */
export function eventRouteOf(topic: TopicName): string {
  return `/events/${topic}`
}

interface Handler {
  group: string
  handle: EventBatchHandler
}

/** Worst first: one handler asking for a retry repeats the event for all (they are idempotent). */
const SEVERITY: Record<DaprDeliveryStatus, number> = { SUCCESS: 0, DROP: 1, RETRY: 2 }

export class DaprEventBus implements EventBus {
  readonly transport = 'dapr'
  readonly #options: DaprEventBusOptions
  readonly #client: DaprClient
  readonly #log: Logger
  readonly #prefix: string
  readonly #handlers = new Map<TopicName, Set<Handler>>()

  constructor(options: DaprEventBusOptions) {
    this.#options = options
    this.#log = options.logger.child({ component: 'dapr' })
    this.#prefix = options.topicPrefix ?? ''
    this.#client = createDaprClient(options)
  }

  /**
   * Dapr creates no topics on our behalf that we could rely on: the platform creates them and
   * their dead-letter topics (the dev overlay's Job, `rpk` in docs/deploy.md). This only checks
   * that the sidecar has loaded the pub/sub component, so a missing scope fails at start-up.
   */
  async ensureTopics(topics: readonly TopicName[]): Promise<void> {
    const response = await callSidecar(this.#options, '/metadata').catch((err: unknown) => {
      throw new AppError('EVT_TOPICS_FAILED', 'dapr sidecar is unreachable', {
        cause: err,
        retryable: true,
      })
    })
    const metadata = (await response.json().catch(() => ({}))) as {
      components?: { name?: string; type?: string }[]
    }
    const loaded = (metadata.components ?? []).some(
      (c) => c.name === this.#options.pubsubName && c.type?.startsWith('pubsub.') === true,
    )
    if (!response.ok || !loaded) {
      throw new AppError(
        'EVT_TOPICS_FAILED',
        `dapr pubsub component not loaded: ${this.#options.pubsubName}`,
        { retryable: true },
      )
    }

    this.#log.info(
      { pubsub: this.#options.pubsubName, topics: topics.map((t) => this.#topic(t)) },
      'topics are created by the platform, not by the app; pubsub component found',
    )
  }

  /**
   * Publishes each event as a structured CloudEvent: with application/cloudevents+json the
   * sidecar keeps our id, type and source and only adds its tracing and routing attributes.
   * One request per event, in order, so one task's events keep their order on its partition.
   */
  async publish(events: readonly AnyCloudEvent[]): Promise<void> {
    for (const event of events) {
      validateEvent(event)
    }

    for (const event of events) {
      const topic = this.#topic(topicOf(event.type))
      const result = await this.#client.pubsub.publish(this.#options.pubsubName, topic, event, {
        contentType: CLOUDEVENTS_CONTENT_TYPE,
        metadata: { partitionKey: event.partitionkey },
      })
      // The SDK answers failures with { error } instead of throwing.
      if (result.error !== undefined) {
        throw new AppError('EVT_PUBLISH_FAILED', 'could not publish through the dapr sidecar', {
          cause: result.error,
          retryable: true,
        })
      }
    }
  }

  /**
   * Records the handler for the topic's route. Dapr subscribes for the app (declaratively) and
   * its consumer group is the app id, so `group` only names the handler in logs.
   */
  subscribe(options: SubscribeOptions): Promise<Subscription> {
    const handler: Handler = { group: options.group, handle: options.handle }
    const handlers = this.#handlers.get(options.topic) ?? new Set()
    handlers.add(handler)
    this.#handlers.set(options.topic, handlers)
    const log = this.#log.child({ group: options.group, topic: options.topic })
    log.info({ route: eventRouteOf(options.topic) }, 'subscribed')

    return Promise.resolve({
      close: () => {
        handlers.delete(handler)
        log.info('unsubscribed')

        return Promise.resolve()
      },
    })
  }

  /** The sidecar's outbound health: ready once its components are, before the app is. */
  async ping(): Promise<void> {
    const response = await callSidecar(this.#options, '/healthz/outbound').catch((err: unknown) => {
      throw new AppError('EVT_BROKER_UNREACHABLE', 'dapr sidecar is unreachable', {
        cause: err,
        retryable: true,
      })
    })
    if (!response.ok) {
      throw new AppError(
        'EVT_BROKER_UNREACHABLE',
        `dapr sidecar is not healthy: ${response.status}`,
        {
          retryable: true,
        },
      )
    }
  }

  close(): Promise<void> {
    this.#handlers.clear()

    return Promise.resolve()
  }

  /**
   * `GET /dapr/subscribe` answers no programmatic subscriptions (the Subscription resources
   * declare them; listing them again would subscribe twice), and one route per topic.
   */
  routes(): readonly EventRoute[] {
    // TODO(dapr): anyone who reaches the app port may post events here; check Dapr's app API
    // token (APP_API_TOKEN, header dapr-api-token) once the overlay configures one.
    const subscribe: EventRoute = {
      method: 'GET',
      url: '/dapr/subscribe',
      handle: () => Promise.resolve({ status: 200, body: [] }),
    }
    const topics = Object.values(TOPICS).map((topic): EventRoute => ({
      method: 'POST',
      url: eventRouteOf(topic),
      handle: (body) => this.#receive(topic, body),
    }))

    return [subscribe, ...topics]
  }

  async #receive(topic: TopicName, body: string | undefined) {
    const handlers = [...(this.#handlers.get(topic) ?? [])]
    if (handlers.length === 0) {
      // Not subscribed yet (starting) or any more (stopping): Dapr delivers it again later.
      this.#log.warn({ topic }, 'event for a topic without a handler, asking for a retry')

      return daprReply('RETRY')
    }

    const message = { body: body === undefined ? null : unwrapDaprEvent(body), position: topic }
    let worst: DaprDeliveryStatus = 'SUCCESS'
    for (const handler of handlers) {
      const log = this.#log.child({ group: handler.group, topic })
      const status = await deliverOnce(message, handler.handle, log)
      worst = SEVERITY[status] > SEVERITY[worst] ? status : worst
    }

    return daprReply(worst)
  }

  #topic(name: string): string {
    return `${this.#prefix}${name}`
  }
}

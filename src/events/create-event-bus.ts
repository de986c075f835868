// Picks the adapter the configuration names. The rest of the code sees only `EventBus`.
import { AppError } from '../shared/errors.js'
import type { Logger } from '../shared/logger.js'
import { DaprEventBus } from './dapr/dapr-event-bus.js'
import type { EventBus } from './event-bus.js'
import { InProcessEventBus } from './in-process/in-process-event-bus.js'
import { KafkaEventBus } from './kafka/kafka-event-bus.js'

export type EventTransport = EventBus['transport']

export interface EventBusConfig {
  transport: EventTransport
  kafkaBrokers: readonly string[]
  topicPrefix: string
  /** Kafka client id and, for Dapr, the app id. */
  clientId: string
  /** The local sidecar, for the Dapr adapter; required when `transport` is 'dapr'. */
  dapr?: { httpPort: number; pubsubName: string }
}

export function createEventBus(config: EventBusConfig, logger: Logger): EventBus {
  switch (config.transport) {
    case 'kafka':
      return new KafkaEventBus({
        brokers: config.kafkaBrokers,
        clientId: config.clientId,
        topicPrefix: config.topicPrefix,
        logger,
      })
    case 'in-process':
      return new InProcessEventBus({ logger })
    case 'dapr':
      if (config.dapr === undefined) {
        throw new AppError('EVT_CONFIG', 'the dapr event transport needs the sidecar settings')
      }

      return new DaprEventBus({
        httpPort: config.dapr.httpPort,
        pubsubName: config.dapr.pubsubName,
        topicPrefix: config.topicPrefix,
        logger,
      })
  }
}

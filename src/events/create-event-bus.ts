// Picks the adapter the configuration names. The rest of the code sees only `EventBus`.
import type { Logger } from '../shared/logger.js'
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
      // TODO(events): the Dapr adapter arrives with the deployment issue (#6).
      throw new Error('the dapr event transport is not available yet')
  }
}

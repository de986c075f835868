// The CloudEvents 1.0 envelope (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md),
// sent in structured content mode: the whole event is the message body, as JSON.
import { randomUUID } from 'node:crypto'

import Type from 'typebox'

import type { EventPayload, EventType } from './catalogue.js'

/** The content type of a structured-mode CloudEvent. */
export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json'

/** One CloudEvent of a catalogued type. */
export interface CloudEvent<T extends EventType = EventType> {
  specversion: '1.0'
  /** Unique per event; consumers deduplicate on it. */
  id: string
  /** Which part of taskstream produced it, such as `/taskstream/backend`. */
  source: string
  type: T
  /** The task the event is about. */
  subject: string
  /** When the change happened (RFC 3339). */
  time: string
  datacontenttype: 'application/json'
  /** The partitioning extension: the Kafka key, so one task's events keep their order. */
  partitionkey: string
  data: EventPayload<T>
}

/** Any catalogued event, narrowed by `type`. */
export type AnyCloudEvent = { [T in EventType]: CloudEvent<T> }[EventType]

/** The envelope's own schema; `data` is checked against the type's schema separately. */
export const CloudEventEnvelopeSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1 }),
    source: Type.String({ minLength: 1 }),
    type: Type.String({ minLength: 1 }),
    subject: Type.String({ minLength: 1 }),
    time: Type.String({ format: 'date-time' }),
    datacontenttype: Type.Literal('application/json'),
    partitionkey: Type.String({ minLength: 1 }),
    data: Type.Unknown(),
  },
  { additionalProperties: false },
)

export interface NewEventOptions {
  source: string
  /** The task id: the subject and the partition key. */
  key: string
  /** A deterministic id where redelivery must be recognisable; a random UUID otherwise. */
  id?: string
  time?: Date
}

export function createEvent<T extends EventType>(
  type: T,
  data: EventPayload<T>,
  options: NewEventOptions,
): CloudEvent<T> {
  return {
    specversion: '1.0',
    id: options.id ?? randomUUID(),
    source: options.source,
    type,
    subject: options.key,
    time: (options.time ?? new Date()).toISOString(),
    datacontenttype: 'application/json',
    partitionkey: options.key,
    data,
  }
}

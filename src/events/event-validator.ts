// Checks events against the envelope schema and their type's payload schema, on the way out
// (publish) and on the way in (consume).
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

import { AppError } from '../shared/errors.js'
import { EVENT_CATALOGUE, EVENT_TYPES, isEventType, type EventType } from './catalogue.js'
import { CloudEventEnvelopeSchema, type AnyCloudEvent } from './cloud-event.js'

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const ajv = addFormats(new Ajv({ allErrors: true, strict: false }))
const checkEnvelope = ajv.compile(CloudEventEnvelopeSchema)
const checkData = new Map<EventType, ValidateFunction>(
  EVENT_TYPES.map((type) => [type, ajv.compile(EVENT_CATALOGUE[type].schema)]),
)

function describe(validate: ValidateFunction, prefix: string): string {
  return (validate.errors ?? [])
    .map((e) => `${prefix}${e.instancePath || '/'} ${e.message ?? 'is invalid'}`)
    .join('; ')
}

/** Returns the event typed, or throws `EVT_INVALID` (never retryable) saying what is wrong. */
export function validateEvent(value: unknown): AnyCloudEvent {
  if (!checkEnvelope(value)) {
    throw new AppError('EVT_INVALID', `invalid cloudevent: ${describe(checkEnvelope, '')}`)
  }

  const type = (value as { type: string }).type
  if (!isEventType(type)) {
    throw new AppError('EVT_INVALID', `unknown event type: ${type}`)
  }

  const check = checkData.get(type)
  if (check !== undefined && !check((value as { data: unknown }).data)) {
    throw new AppError('EVT_INVALID', `invalid ${type} data: ${describe(check, 'data')}`)
  }

  return value
}

/** Parses a message body and validates it; throws `EVT_INVALID` for anything else. */
export function parseEvent(body: Buffer | string | null): AnyCloudEvent {
  if (body === null) {
    throw new AppError('EVT_INVALID', 'message has no body')
  }

  let value: unknown
  try {
    value = JSON.parse(body.toString())
  } catch (err) {
    throw new AppError('EVT_INVALID', 'message body is not json', { cause: err })
  }

  return validateEvent(value)
}

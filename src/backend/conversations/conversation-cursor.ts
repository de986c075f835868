// Opaque page cursors for sessions (start time and id of the last one shown) and messages
// (direction and sequence of the last one shown). A tampered or mismatched cursor is a 400.
import { AppError } from '../../shared/errors.js'

export interface SessionCursor {
  startedAt: string
  id: string
}

export interface MessageCursor {
  order: 'asc' | 'desc'
  seq: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function invalid(cause?: unknown): AppError {
  return new AppError('API_INVALID_CURSOR', 'cursor is not one this API issued', {
    statusCode: 400,
    cause,
  })
}

function decode(cursor: string): Record<string, unknown> {
  try {
    const body: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString())
    if (typeof body !== 'object' || body === null) {
      throw invalid()
    }

    return body as Record<string, unknown>
  } catch (err) {
    throw invalid(err)
  }
}

const encode = (body: object) => Buffer.from(JSON.stringify(body)).toString('base64url')

export function encodeSessionCursor(cursor: SessionCursor): string {
  return encode({ t: cursor.startedAt, id: cursor.id })
}

export function decodeSessionCursor(cursor: string): SessionCursor {
  const { t, id } = decode(cursor)
  if (
    typeof t !== 'string' ||
    Number.isNaN(Date.parse(t)) ||
    typeof id !== 'string' ||
    !UUID.test(id)
  ) {
    throw invalid()
  }

  return { startedAt: t, id }
}

export function encodeMessageCursor(cursor: MessageCursor): string {
  return encode({ o: cursor.order, s: cursor.seq })
}

export function decodeMessageCursor(cursor: string, order: 'asc' | 'desc'): MessageCursor {
  const { o, s } = decode(cursor)
  if (typeof s !== 'string' || !/^\d{1,19}$/.test(s)) {
    throw invalid()
  }
  if (o !== order) {
    throw new AppError(
      'API_INVALID_CURSOR',
      'cursor belongs to another order; start again without it',
      {
        statusCode: 400,
      },
    )
  }

  return { order, seq: s }
}

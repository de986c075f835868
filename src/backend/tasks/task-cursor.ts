// Opaque page cursors: the sort they belong to and the last task's sort value and id,
// base64url-encoded. A cursor from another sort or a tampered one is a 400, not a wrong page.
import { AppError } from '../../shared/errors.js'
import type { SortField } from './task-schemas.js'

interface CursorBody {
  s: SortField
  o: 'asc' | 'desc'
  v: string | number | null
  id: string
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function encodeCursor(body: CursorBody): string {
  return Buffer.from(JSON.stringify(body)).toString('base64url')
}

export function decodeCursor(cursor: string, sort: SortField, order: 'asc' | 'desc'): CursorBody {
  let body: Partial<CursorBody>
  try {
    body = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Partial<CursorBody>
  } catch (err) {
    throw new AppError('API_INVALID_CURSOR', 'cursor is not one this API issued', {
      statusCode: 400,
      cause: err,
    })
  }

  if (typeof body.id !== 'string' || !UUID.test(body.id) || !('v' in body)) {
    throw new AppError('API_INVALID_CURSOR', 'cursor is not one this API issued', {
      statusCode: 400,
    })
  }
  if (body.s !== sort || body.o !== order) {
    throw new AppError(
      'API_INVALID_CURSOR',
      'cursor belongs to another sort order; start again without it',
      {
        statusCode: 400,
      },
    )
  }

  return body as CursorBody
}

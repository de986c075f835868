// PostgreSQL cannot store NUL characters, and JSON may carry unpaired UTF-16 surrogates that are
// no text at all. Either would fail deep in a query as a 500; refuse them up front as a 400.
import type { FastifyRequest } from 'fastify'

import { AppError } from '../../shared/errors.js'

// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const INVALID_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** The path of the first string in `value` that is not storable text, or undefined. */
function findInvalidText(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') {
    return INVALID_TEXT.test(value) ? path : undefined
  }
  if (value === null || typeof value !== 'object' || depth > 32) {
    return undefined
  }

  for (const [key, item] of Object.entries(value)) {
    const found =
      findInvalidText(key, path, depth + 1) ?? findInvalidText(item, `${path}/${key}`, depth + 1)
    if (found !== undefined) {
      return found
    }
  }

  return undefined
}

/** A preValidation hook: runs before schema validation, on the body and the query string. */
export async function rejectInvalidText(request: FastifyRequest): Promise<void> {
  const found = findInvalidText(request.body, 'body') ?? findInvalidText(request.query, 'query')
  if (found !== undefined) {
    throw new AppError(
      'API_INVALID_TEXT',
      `${found} contains a NUL character or an unpaired surrogate, which is not text`,
      { statusCode: 400, details: { path: found } },
    )
  }

  return Promise.resolve()
}

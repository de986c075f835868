// One error model for the whole system (STYLE.md §5): a stable code, a cause, whether a
// retry can mend it and, for HTTP, the status it maps to.

export interface AppErrorOptions {
  /** The error behind this one, kept for logs; never shown to API clients. */
  cause?: unknown
  /** True when trying the same operation again may succeed (a broker or database hiccup). */
  retryable?: boolean
  /** HTTP status for the API's problem answer; 500 when not given. */
  statusCode?: number
  /** Extra fields for the problem answer, such as the offending field. */
  details?: Record<string, unknown>
}

export class AppError extends Error {
  readonly code: string
  readonly retryable: boolean
  readonly statusCode: number
  readonly details: Record<string, unknown> | undefined

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.retryable = options.retryable ?? false
    this.statusCode = options.statusCode ?? 500
    this.details = options.details
  }
}

export function isAppError(error: unknown, code?: string): error is AppError {
  if (!(error instanceof AppError)) {
    return false
  }

  return code === undefined || error.code === code
}

/** Whether a failure is worth retrying: AppErrors say so; unknown errors are assumed transient. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AppError) {
    return error.retryable
  }

  return true
}

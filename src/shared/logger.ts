// The process logger: pino, structured, with secrets redacted wherever they might appear.
import { pino, type Logger, type LevelWithSilent } from 'pino'

export type { Logger }

const REDACT = [
  'token',
  'password',
  'authorization',
  'req.headers.authorization',
  'databaseUrl',
  'jwtSecret',
  '*.token',
  '*.password',
  '*.authorization',
]

export function createLogger(level: LevelWithSilent, name = 'taskstream'): Logger {
  return pino({ name, level, redact: { paths: REDACT, censor: '[redacted]' } })
}

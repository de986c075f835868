// Runs the backend and every worker role as separate processes against real services, as
// they run in a cluster. Usage: npm run services:up && npm run stack (Ctrl-C stops them all).
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'

import { signDevToken } from '../src/backend/auth/dev-token.js'

const env = { ...process.env }
env.DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/test'
env.KAFKA_BROKERS ??= '127.0.0.1:9092'
env.EVENT_TRANSPORT ??= 'kafka'
if (env.JWT_SECRET === undefined && env.JWT_JWKS_URL === undefined) {
  env.JWT_SECRET = randomBytes(32).toString('hex')
}

const port = Number(env.PORT ?? 3000)
const processes: [string, string[], number][] = [
  ['backend', ['src/backend/main.ts'], port],
  ['reminder', ['src/workers/main.ts', 'reminder'], port + 1],
  ['recurrence', ['src/workers/main.ts', 'recurrence'], port + 2],
  ['audit', ['src/workers/main.ts', 'audit'], port + 3],
]

const children: ChildProcess[] = []
for (const [name, args, childPort] of processes) {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    env: { ...env, PORT: String(childPort) },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  child.once('exit', (code, signal) => {
    console.error(`[stack] ${name} exited (${signal ?? code})`)
    if (!stopping) {
      stop(1)
    }
  })
  children.push(child)
}

let stopping = false
function stop(code: number): void {
  stopping = true
  for (const child of children) {
    child.kill('SIGTERM')
  }
  Promise.all(
    children.map(
      (c) =>
        new Promise((resolve) => (c.exitCode === null ? c.once('exit', resolve) : resolve(null))),
    ),
  ).then(
    () => process.exit(code),
    () => process.exit(1),
  )
}
process.once('SIGINT', () => stop(0))
process.once('SIGTERM', () => stop(0))

if (env.JWT_SECRET !== undefined) {
  const token = await signDevToken(env.JWT_SECRET, 'dev-user')
  console.error(
    `\n[stack] API on http://127.0.0.1:${port}; a token for "dev-user":\nexport TOKEN=${token}\n`,
  )
}

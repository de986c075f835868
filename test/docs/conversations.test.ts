// docs/conversations.md as a reader meets it: its curl session run as written against
// `npm start` (embedded PostgreSQL, in-process bus), so the examples cannot rot.
import { execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

import t from 'tap'

const run = promisify(execFile)

async function docSession(): Promise<string> {
  const doc = await readFile(new URL('../../docs/conversations.md', import.meta.url), 'utf8')
  const block = /```bash\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## Try it')))?.[1]
  if (block === undefined) {
    throw new Error('docs/conversations.md has no bash block under "## Try it"')
  }

  return block
}

t.test('conversations doc should answer its curl session against npm start', async (t) => {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    PGLITE_DIR: 'memory://',
    LOG_LEVEL: 'warn',
  }
  for (const name of [
    'DATABASE_URL',
    'KAFKA_BROKERS',
    'EVENT_TRANSPORT',
    'JWT_SECRET',
    'JWT_JWKS_URL',
  ]) {
    delete env[name]
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/embedded.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  )
  t.teardown(() => {
    if (child.exitCode === null) {
      child.kill('SIGKILL')
    }
  })

  let stdout = ''
  const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start did not start:\n${stdout}`)), 60_000)
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const url = /running at (http:\/\/\S+)/.exec(stdout)?.[1]
      const token = /export TOKEN=(\S+)/.exec(stdout)?.[1]
      if (url !== undefined && token !== undefined) {
        clearTimeout(timer)
        resolve({ url, token })
      }
    })
  })

  const session = await run('bash', ['-euo', 'pipefail', '-c', await docSession()], {
    env: { ...process.env, API: started.url, TOKEN: started.token },
    timeout: 60_000,
  })
  t.match(session.stdout, /"newSession": true/, 'the first message starts a session')
  t.match(session.stdout, /"tokenCount": 15/, 'the server counts the tokens')
  t.match(session.stdout, /\\"status\\":\\"completed\\"/, 'the system message shows the task now')
  t.match(session.stdout, /"it": "Dentist appointment"/, '"it" is the task')
  t.match(session.stdout, /"overBudget": false/)
  t.match(
    session.stdout,
    /\{"role":"assistant","content":"Done: the dentist is on Thursday at 15:00.","tokenCount":13\}/,
  )

  child.kill('SIGTERM')
  t.equal(await exited, 0)
})

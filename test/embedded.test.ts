// `npm start` as a newcomer meets it: nothing configured, the README's curl session run as
// written against it, then SIGTERM, which must drain and exit 0.
import { execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

import t from 'tap'

const run = promisify(execFile)

async function readmeSession(): Promise<string> {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const section = readme.slice(readme.indexOf('## Try it'))
  const block = /```bash\n([\s\S]*?)```/.exec(section)?.[1]
  if (block === undefined) {
    throw new Error('README has no bash block under "## Try it"')
  }

  return block
}

t.test('embedded mode should answer the README curl session and stop cleanly', async (t) => {
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
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  const started = await new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`embedded mode did not start:\n${stdout}`)),
      60_000,
    )
    child.stdout.on('data', () => {
      const url = /running at (http:\/\/\S+)/.exec(stdout)?.[1]
      const token = /export TOKEN=(\S+)/.exec(stdout)?.[1]
      if (url !== undefined && token !== undefined) {
        clearTimeout(timer)
        resolve({ url, token })
      }
    })
  })

  const session = await run('bash', ['-euo', 'pipefail', '-c', await readmeSession()], {
    env: { ...process.env, API: started.url, TOKEN: started.token },
    timeout: 60_000,
  })
  t.match(session.stdout, /"title": "Send the quarterly report"/, 'the task was created')
  t.match(
    session.stdout,
    /"dueAt": "2030-01-11T16:00:00.000Z"/,
    '17:00 in Madrid is 16:00Z in winter',
  )
  t.match(session.stdout, /"status": "completed"/, 'the task was completed')
  t.match(
    session.stdout,
    /"type":"task.created","taskVersion":1/,
    'the trail starts with the creation',
  )
  t.match(session.stdout, /"type":"task.completed","taskVersion":2/, 'and records the completion')

  child.kill('SIGTERM')
  t.equal(await exited, 0, 'SIGTERM drains and exits 0')
})

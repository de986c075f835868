// The documentation's curl sessions, run as written against `npm start` with nothing
// configured (embedded PostgreSQL, in-process bus), so the examples cannot rot.
import { execFile, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'

import type { Test } from 'tap'

const run = promisify(execFile)

/** The first bash block under `heading` in a Markdown file of the repository. */
export async function docBlock(file: string, heading: string): Promise<string> {
  const text = await readFile(new URL(`../../${file}`, import.meta.url), 'utf8')
  const start = text.indexOf(heading)
  const block = start < 0 ? undefined : /```bash\n([\s\S]*?)```/.exec(text.slice(start))?.[1]
  if (block === undefined) {
    throw new Error(`${file} has no bash block under "${heading}"`)
  }

  return block
}

export interface EmbeddedProcess {
  url: string
  token: string
  /** Runs a bash session with API and TOKEN set, failing on the first failing command. */
  session(script: string): Promise<string>
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>
}

export async function startEmbedded(
  t: Test,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<EmbeddedProcess> {
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
    env: { ...env, ...extraEnv },
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

  return {
    ...started,
    async session(script) {
      const { stdout: output } = await run('bash', ['-euo', 'pipefail', '-c', script], {
        env: { ...process.env, API: started.url, TOKEN: started.token },
        timeout: 60_000,
      })

      return output
    },
    async stop() {
      child.kill('SIGTERM')

      return exited
    },
  }
}

// Runs every benchmark in bench/ against real PostgreSQL and Kafka (started as npm test does),
// then prints each one's summary. Usage: npm run bench [-- <name filter>]
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readdirSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { DEFAULT_DATABASE_URL, ensurePostgres, provideKafka } from './run-tests.js'

/** What a benchmark writes to BENCH_RESULT_FILE: a title and the lines of its summary. */
export interface BenchResult {
  title: string
  summary: string[]
}

const BENCH_DIR = new URL('../bench/', import.meta.url)

function runBench(file: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolveCode) => {
    const child = spawn('npx', ['tsx', join(BENCH_DIR.pathname, file)], { env, stdio: 'inherit' })
    child.once('error', () => resolveCode(1))
    child.once('exit', (code) => resolveCode(code ?? 1))
  })
}

async function main(filter: string | undefined): Promise<number> {
  const files = readdirSync(BENCH_DIR)
    .filter((name) => name.endsWith('.ts') && (filter === undefined || name.includes(filter)))
    .sort()
  if (files.length === 0) {
    console.error(`[bench] no benchmark in bench/ matches "${filter ?? ''}"`)

    return 2
  }

  const databaseUrl = process.env.DATABASE_URL_TEST ?? DEFAULT_DATABASE_URL
  await ensurePostgres(databaseUrl)
  const aborter = new AbortController()
  process.once('SIGINT', () => aborter.abort())
  const kafka = await provideKafka(aborter.signal)
  const results: { file: string; code: number; result: BenchResult | undefined }[] = []
  try {
    for (const file of files) {
      const resultFile = join(tmpdir(), `bench-${randomBytes(4).toString('hex')}.json`)
      console.error(`[bench] running ${file}`)
      const code = await runBench(file, {
        ...process.env,
        KAFKA_BROKERS: kafka.brokers,
        BENCH_DATABASE_URL: databaseUrl,
        BENCH_RESULT_FILE: resultFile,
      })
      const text = await readFile(resultFile, 'utf8').catch(() => undefined)
      await rm(resultFile, { force: true })
      results.push({
        file,
        code,
        result: text === undefined ? undefined : (JSON.parse(text) as BenchResult),
      })
    }
  } finally {
    await kafka.stop()
  }

  console.log('\n=== benchmark summary ===')
  for (const { file, code, result } of results) {
    console.log(`\n${result?.title ?? file}${code === 0 ? '' : ` (exited ${code})`}`)
    for (const line of result?.summary ?? ['no result written']) {
      console.log(`  ${line}`)
    }
  }

  return results.every((r) => r.code === 0) ? 0 : 1
}

main(process.argv[2]).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  },
)

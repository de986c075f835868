// Secrets through the sidecar's secret store, against a fake sidecar on 127.0.0.1.
import t from 'tap'

import { readDaprSecrets } from '../../../src/events/dapr/dapr-secrets.js'
import { loadConfig } from '../../../src/shared/config.js'
import { withDaprSecrets } from '../../../src/shared/process/bootstrap.js'
import { startFakeSidecar } from '../../helpers/fake-dapr-sidecar.js'
import { testLogger } from '../../helpers/test-database.js'

const DATABASE_URL = 'postgres://app:pw@db.example:5432/taskstream?sslmode=require'
const JWT_SECRET = 'x'.repeat(40)

t.test('dapr secrets should read the keys of one secret in one request', async (t) => {
  const fake = await startFakeSidecar(t)
  fake.secrets.set('todo-secrets/taskstream-secrets', { DATABASE_URL, JWT_SECRET, OTHER: 'o' })

  const found = await readDaprSecrets(
    { httpPort: fake.port, storeName: 'todo-secrets', logger: testLogger },
    ['DATABASE_URL', 'JWT_SECRET', 'MISSING'],
  )

  t.same(found, { DATABASE_URL, JWT_SECRET }, 'wanted keys only; missing ones absent')
  t.same(
    fake.requestsTo('/v1.0/secrets/').map((r) => [r.method, r.url]),
    [['GET', '/v1.0/secrets/todo-secrets/taskstream-secrets']],
  )
})

t.test('dapr secrets should fail with a retryable EVT_SECRETS_FAILED when refused', async (t) => {
  const fake = await startFakeSidecar(t)

  await t.rejects(
    readDaprSecrets({ httpPort: fake.port, storeName: 'todo-secrets', logger: testLogger }, [
      'DATABASE_URL',
    ]),
    { code: 'EVT_SECRETS_FAILED', retryable: true },
  )
})

t.test('bootstrap should take missing secrets from dapr and let the environment win', async (t) => {
  const fake = await startFakeSidecar(t)
  fake.secrets.set('todo-secrets/taskstream-secrets', { DATABASE_URL, JWT_SECRET })
  const env = { EVENT_TRANSPORT: 'dapr', DAPR_HTTP_PORT: String(fake.port) }

  const fromStore = await withDaprSecrets(loadConfig(env), testLogger)
  t.equal(fromStore.databaseUrl, DATABASE_URL)
  t.equal(fromStore.jwt.secret, JWT_SECRET)
  t.ok(Object.isFrozen(fromStore), 'the configuration stays frozen')

  const ownUrl = 'postgres://local:pw@127.0.0.1:5432/test'
  const fromEnv = await withDaprSecrets(
    loadConfig({ ...env, DATABASE_URL: ownUrl, JWT_SECRET: 'y'.repeat(32) }),
    testLogger,
  )
  t.equal(fromEnv.databaseUrl, ownUrl, 'the environment wins')
  t.equal(fromEnv.jwt.secret, 'y'.repeat(32))
  t.equal(fake.requestsTo('/v1.0/secrets/').length, 1, 'no fetch when nothing is missing')

  fake.secrets.set('todo-secrets/taskstream-secrets', { DATABASE_URL: 'mysql://x', JWT_SECRET })
  await t.rejects(withDaprSecrets(loadConfig(env), testLogger), {
    name: 'ConfigError',
    message: /DATABASE_URL from the dapr secret store/,
  })
})

t.test('bootstrap should not ask dapr for secrets with another transport', async (t) => {
  const fake = await startFakeSidecar(t)
  const config = loadConfig({ EVENT_TRANSPORT: 'in-process', DAPR_HTTP_PORT: String(fake.port) })

  t.equal(await withDaprSecrets(config, testLogger), config)
  t.equal(fake.requests.length, 0)
})

// `npm start` as a newcomer meets it: nothing configured, the README's curl session run as
// written against it, then SIGTERM, which must drain and exit 0; started again, it still has
// the data (its database directory did not exist before the first start).
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import t from 'tap'

import { docBlock, startEmbedded } from './helpers/doc-session.js'

t.test('embedded mode should answer the README curl session and stop cleanly', async (t) => {
  const root = await mkdtemp(join(tmpdir(), 'taskstream-embedded-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const env = { PGLITE_DIR: join(root, 'not', 'yet', 'there') }

  const embedded = await startEmbedded(t, env)
  const output = await embedded.session(await docBlock('README.md', '## Try it'))
  t.match(output, /"title": "Send the quarterly report"/, 'the task was created')
  t.match(output, /"dueAt": "2030-01-11T16:00:00.000Z"/, '17:00 in Madrid is 16:00Z in winter')
  t.match(output, /"status": "completed"/, 'the task was completed')
  t.match(output, /"type":"task.created","taskVersion":1/, 'the trail starts with the creation')
  t.match(output, /"type":"task.completed","taskVersion":2/, 'and records the completion')
  t.equal(await embedded.stop(), 0, 'SIGTERM drains and exits 0')

  const again = await startEmbedded(t, env)
  const titles = await again.session(
    'curl -sS --fail-with-body "$API/api/tasks" -H "Authorization: Bearer $TOKEN" | jq -r ".items[].title"',
  )
  t.equal(titles.trim(), 'Send the quarterly report', 'the data survives a restart')
  t.equal(await again.stop(), 0)
})

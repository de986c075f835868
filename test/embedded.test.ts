// `npm start` as a newcomer meets it: nothing configured, the README's curl session run as
// written against it, then SIGTERM, which must drain and exit 0.
import t from 'tap'

import { docBlock, startEmbedded } from './helpers/doc-session.js'

t.test('embedded mode should answer the README curl session and stop cleanly', async (t) => {
  const embedded = await startEmbedded(t)
  const output = await embedded.session(await docBlock('README.md', '## Try it'))

  t.match(output, /"title": "Send the quarterly report"/, 'the task was created')
  t.match(output, /"dueAt": "2030-01-11T16:00:00.000Z"/, '17:00 in Madrid is 16:00Z in winter')
  t.match(output, /"status": "completed"/, 'the task was completed')
  t.match(output, /"type":"task.created","taskVersion":1/, 'the trail starts with the creation')
  t.match(output, /"type":"task.completed","taskVersion":2/, 'and records the completion')
  t.equal(await embedded.stop(), 0, 'SIGTERM drains and exits 0')
})

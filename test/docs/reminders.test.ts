// The README's reminder session as a reader meets it: a reminder three seconds out, seen on the
// stream, in the list and on a replay, against `npm start`.
import t from 'tap'

import { docBlock, startEmbedded } from '../helpers/doc-session.js'

t.test('reminders section should answer its curl session against npm start', async (t) => {
  const embedded = await startEmbedded(t)
  const output = await embedded.session(
    await docBlock('README.md', '## Reminders and notifications'),
  )

  t.match(output, /event: reminder\.fired\ndata: \{"sequence":1,/, 'the stream pushed the reminder')
  t.match(output, /\{"sequence":1,"title":"Stand up and stretch",/, 'the list has it')
  t.equal(output.match(/event: reminder\.fired/g)?.length, 2, 'live once, then once on replay')
  t.equal(await embedded.stop(), 0)
})

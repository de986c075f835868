// The README's conversation session as a reader meets it: its curl session run as written against
// `npm start` (embedded PostgreSQL, in-process bus), so the examples cannot rot.
import t from 'tap'

import { docBlock, startEmbedded } from '../helpers/doc-session.js'

t.test('conversations doc should answer its curl session against npm start', async (t) => {
  const embedded = await startEmbedded(t)
  const output = await embedded.session(
    await docBlock('README.md', "## The assistant's conversation memory"),
  )

  t.match(output, /"newSession": true/, 'the first message starts a session')
  t.match(output, /"tokenCount": 15/, 'the server counts the tokens')
  t.match(output, /\\"status\\":\\"completed\\"/, 'the system message shows the task now')
  t.match(output, /"it": "Dentist appointment"/, '"it" is the task')
  t.match(output, /"overBudget": false/)
  t.match(
    output,
    /\{"role":"assistant","content":"Done: the dentist is on Thursday at 15:00.","tokenCount":13\}/,
  )
  t.equal(await embedded.stop(), 0)
})

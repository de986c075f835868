// The README's recurring-task session as a reader meets it: its curl session run as written against `npm start`
// (embedded PostgreSQL, in-process bus, every role), so the example cannot rot.
import t from 'tap'

import { docBlock, startEmbedded } from '../helpers/doc-session.js'

t.test('recurrence doc should answer its curl session against npm start', async (t) => {
  const embedded = await startEmbedded(t)
  const output = await embedded.session(await docBlock('README.md', '## Recurring tasks'))

  t.match(output, /\{"occurrence":1,"status":"completed","dueAt":"2030-01-31T08:00:00.000Z"/)
  t.match(output, /\{"occurrence":2,"status":"open","dueAt":"2030-02-28T08:00:00.000Z"/)
  t.match(output, /"occurrence":2,"nextOccurrenceAt":"2030-03-31T07:00:00.000Z"\}/)
  t.match(output, /\{"status":400,"code":"API_RULE_NEVER_FIRES"/)
  t.equal(await embedded.stop(), 0)
})

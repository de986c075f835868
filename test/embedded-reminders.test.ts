// The embedded mode's pieces (PGlite, the in-process bus, the backend and every role in ROLES)
// fire reminders and deliver them, as `npm start` runs them.
import t from 'tap'

import { InProcessEventBus } from '../src/events/in-process/in-process-event-bus.js'
import { TOPICS } from '../src/events/catalogue.js'
import { openDatabase } from '../src/shared/db/database.js'
import { ROLES } from '../src/workers/roles.js'
import { testLogger } from './helpers/test-database.js'
import { eventually, startTestSystem } from './helpers/test-system.js'

t.test('embedded mode should fire a reminder on PGlite and the in-process bus', async (t) => {
  t.ok(ROLES.reminder, 'the reminder role is registered, so npm start runs it')
  const database = await openDatabase({ pgliteDir: 'memory://', logger: testLogger })
  await database.migrate()
  const bus = new InProcessEventBus({ logger: testLogger })
  await bus.ensureTopics(Object.values(TOPICS))
  t.teardown(async () => {
    await bus.close()
    await database.close()
  })
  const system = await startTestSystem(t, { database, bus, roles: ['reminder'] })

  const remindAt = Date.now() + 1_000
  const created = await system.request('dev-user', 'POST', '/api/tasks', {
    title: 'Stretch',
    dueAt: new Date(remindAt + 60_000).toISOString(),
    reminderOffsetMinutes: 1,
  })
  t.equal(created.status, 201)

  const items = await eventually(async () => {
    const list = await system.request('dev-user', 'GET', '/api/notifications')
    const found = list.body.items as { data: { taskId: string; lateMs: number } }[]

    return found.length > 0 ? found : undefined
  })
  t.equal(items.length, 1)
  t.equal(items[0]?.data.taskId, created.body.id)
  t.ok((items[0]?.data.lateMs ?? -1) >= 0)
})

// The Dapr adapter inside the running backend on real PostgreSQL: the outbox relay publishes
// through a fake sidecar, and the test then plays the sidecar's delivery to the backend's own
// /events route (mounted by app.ts), where the audit role's handler takes it.
import t from 'tap'

import { createEventBus } from '../../../src/events/create-event-bus.js'
import { loadConfig } from '../../../src/shared/config.js'
import { startFakeSidecar } from '../../helpers/fake-dapr-sidecar.js'
import { testLogger } from '../../helpers/test-database.js'
import { eventually, startTestSystem } from '../../helpers/test-system.js'

t.test(
  'dapr event bus should carry a created task from the outbox to the audit role over http',
  async (t) => {
    const fake = await startFakeSidecar(t)
    const config = loadConfig({ EVENT_TRANSPORT: 'dapr', DAPR_HTTP_PORT: String(fake.port) })
    const bus = createEventBus(
      {
        transport: config.eventTransport,
        kafkaBrokers: [],
        topicPrefix: '',
        clientId: 'taskstream-backend',
        dapr: { httpPort: config.dapr.httpPort, pubsubName: config.dapr.pubsubName },
      },
      testLogger,
    )
    t.teardown(() => bus.close())
    const system = await startTestSystem(t, { bus, roles: ['audit'] })

    const created = await system.request('alice', 'POST', '/api/tasks', { title: 'Audit me' })
    t.equal(created.status, 201)
    const published = await eventually(
      async () => fake.requestsTo('/v1.0/publish/taskevents/tasks')[0],
      20_000,
      'the relay to publish',
    )
    const event = JSON.parse(published.body) as { id: string; type: string; subject: string }
    t.equal(event.type, 'task.created')
    t.equal(event.subject, created.body.id, 'the task is the subject')
    t.equal(published.url, `/v1.0/publish/taskevents/tasks?metadata.partitionKey=${event.subject}`)

    const subscribe = await fetch(`${system.url}/dapr/subscribe`)
    t.same(await subscribe.json(), [], 'the backend serves the subscription list')
    const delivered = { ...JSON.parse(published.body), topic: 'tasks', pubsubname: 'taskevents' }
    const answer = await fetch(`${system.url}/events/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(delivered),
    })
    t.same(await answer.json(), { status: 'SUCCESS' })

    const trail = await system.request('alice', 'GET', `/api/tasks/${event.subject}/audit`)
    t.same(
      (trail.body.items as { eventId: string }[]).map((i) => i.eventId),
      [event.id],
      'the audit row carries the id we published',
    )
  },
)

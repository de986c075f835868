// The Dapr adapter over real HTTP on 127.0.0.1: publishing against a fake sidecar that records
// what it receives, and receiving through the app's own routes as the sidecar would call them.
import Fastify from 'fastify'
import t, { type Test } from 'tap'

import type { AnyCloudEvent } from '../../../src/events/cloud-event.js'
import { createEventBus } from '../../../src/events/create-event-bus.js'
import { DaprEventBus } from '../../../src/events/dapr/dapr-event-bus.js'
import type { EventBatchHandler } from '../../../src/events/event-bus.js'
import { mountEventRoutes } from '../../../src/events/event-routes.js'
import { loadConfig } from '../../../src/shared/config.js'
import { AppError, isAppError } from '../../../src/shared/errors.js'
import { startFakeSidecar, type FakeSidecar } from '../../helpers/fake-dapr-sidecar.js'
import { FIXTURE_TASK_ID, reminderFired } from '../../helpers/fixtures.js'
import { testLogger } from '../../helpers/test-database.js'

const TASK = FIXTURE_TASK_ID
const fired = (lateMs: number) => reminderFired(lateMs, { source: '/taskstream/reminder' })

/** The bus as bootstrap makes it, from configuration, pointed at the fake sidecar. */
function busFor(fake: FakeSidecar, env: Record<string, string> = {}): DaprEventBus {
  const config = loadConfig({
    EVENT_TRANSPORT: 'dapr',
    DAPR_HTTP_PORT: String(fake.port),
    ...env,
  })
  const bus = createEventBus(
    {
      transport: config.eventTransport,
      kafkaBrokers: config.kafkaBrokers,
      topicPrefix: config.topicPrefix,
      clientId: 'taskstream-test',
      dapr: { httpPort: config.dapr.httpPort, pubsubName: config.dapr.pubsubName },
    },
    testLogger,
  )

  return bus as DaprEventBus
}

/** A server with the bus's routes mounted exactly as the backend and the workers mount them. */
async function appFor(t: Test, bus: DaprEventBus) {
  const app = Fastify()
  app.post('/echo', (request) => ({ parsed: typeof request.body }))
  await mountEventRoutes(app, bus)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())

  return {
    /** Delivers a body to a route as the sidecar does: POST, CloudEvents content type. */
    deliver: async (route: string, body: string) => {
      const response = await fetch(`${url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/cloudevents+json' },
        body,
      })

      return { status: response.status, body: await response.json() }
    },
    post: async (route: string, body: string) => {
      const response = await fetch(`${url}${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      })

      return { status: response.status, body: await response.json() }
    },
    get: async (route: string) => {
      const response = await fetch(`${url}${route}`)

      return { status: response.status, body: await response.json() }
    },
  }
}

/** What the sidecar delivers for an event published as application/cloudevents+json. */
function asDaprDelivers(event: AnyCloudEvent, topic: string): string {
  return JSON.stringify({
    ...event,
    topic,
    pubsubname: 'taskevents',
    traceid: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: '',
  })
}

t.test(
  'dapr event bus should publish our cloudevent unchanged with the task id as partition key',
  async (t) => {
    const fake = await startFakeSidecar(t)
    const bus = busFor(fake, { KAFKA_TOPIC_PREFIX: 'dev-' })
    t.teardown(() => bus.close())
    const first = fired(1)
    const second = fired(2)

    await bus.publish([first, second])

    const publishes = fake.requestsTo('/v1.0/publish/')
    t.equal(publishes.length, 2, 'one request per event')
    t.same(
      publishes.map((r) => [r.method, r.url]),
      [
        ['POST', `/v1.0/publish/taskevents/dev-notifications?metadata.partitionKey=${TASK}`],
        ['POST', `/v1.0/publish/taskevents/dev-notifications?metadata.partitionKey=${TASK}`],
      ],
      'pubsub, prefixed topic and partition key metadata',
    )
    t.equal(publishes[0]?.headers['content-type'], 'application/cloudevents+json')
    t.strictSame(JSON.parse(publishes[0]!.body), first, 'the body is our event as created')
    t.strictSame(JSON.parse(publishes[1]!.body), second, 'in the order given')
  },
)

t.test('dapr event bus should refuse an invalid event before calling the sidecar', async (t) => {
  const fake = await startFakeSidecar(t)
  const bus = busFor(fake)
  const bad = { ...fired(1), type: 'task.vanished' } as unknown as AnyCloudEvent

  await t.rejects(bus.publish([fired(1), bad]), { code: 'EVT_INVALID' })
  t.equal(fake.requestsTo('/v1.0/publish/').length, 0, 'nothing of the batch was published')
})

t.test(
  'dapr event bus should turn a refused publish into a retryable EVT_PUBLISH_FAILED',
  async (t) => {
    const fake = await startFakeSidecar(t)
    const bus = busFor(fake)
    fake.publishStatus = 500

    const err = await bus.publish([fired(1)]).catch((e: unknown) => e)
    t.ok(isAppError(err, 'EVT_PUBLISH_FAILED'))
    t.equal((err as AppError).retryable, true)
  },
)

t.test('dapr event bus should check the pubsub component instead of creating topics', async (t) => {
  const fake = await startFakeSidecar(t)
  const bus = busFor(fake)

  await bus.ensureTopics(['tasks', 'notifications'])
  await bus.ping()
  t.same(
    fake.requests.map((r) => [r.method, r.url]),
    [
      ['GET', '/v1.0/metadata'],
      ['GET', '/v1.0/healthz/outbound'],
    ],
    'reads metadata and health only',
  )

  fake.components = []
  await t.rejects(bus.ensureTopics(['tasks']), { code: 'EVT_TOPICS_FAILED', retryable: true })
})

t.test('dapr event bus should answer no programmatic subscriptions', async (t) => {
  const fake = await startFakeSidecar(t)
  const bus = busFor(fake)
  const app = await appFor(t, bus)

  t.same(await app.get('/dapr/subscribe'), { status: 200, body: [] })
  const echo = await app.post('/echo', '{"a":1}')
  t.same(echo.body, { parsed: 'object' }, "the app's own JSON parsing is untouched")
})

t.test(
  'dapr event bus should hand a delivered event to the handler and answer SUCCESS',
  async (t) => {
    const fake = await startFakeSidecar(t)
    const bus = busFor(fake)
    const received: AnyCloudEvent[] = []
    await bus.subscribe({
      group: 'taskstream-test',
      topic: 'notifications',
      handle: (events) => {
        received.push(...events)

        return Promise.resolve()
      },
    })
    const app = await appFor(t, bus)
    const event = fired(7)

    t.same(await app.deliver('/events/notifications', asDaprDelivers(event, 'notifications')), {
      status: 200,
      body: { status: 'SUCCESS' },
    })
    t.strictSame(received, [event], "the sidecar's attributes are removed; ours arrive as sent")

    const raw = { data_base64: Buffer.from(JSON.stringify(event)).toString('base64'), id: 'x' }
    t.same(await app.deliver('/events/notifications', JSON.stringify(raw)), {
      status: 200,
      body: { status: 'SUCCESS' },
    })
    const wrapped = {
      specversion: '1.0',
      id: 'w',
      type: 'com.dapr.event.sent',
      source: 'x',
      data: event,
    }
    t.same(await app.deliver('/events/notifications', JSON.stringify(wrapped)), {
      status: 200,
      body: { status: 'SUCCESS' },
    })
    t.strictSame(received, [event, event, event], 'raw (data_base64) and wrapped deliveries too')
  },
)

t.test('dapr event bus should answer RETRY or DROP by the handler outcome', async (t) => {
  const fake = await startFakeSidecar(t)
  const bus = busFor(fake)
  let failure: Error | undefined
  const calls: number[] = []
  const handle: EventBatchHandler = (events) => {
    calls.push(...events.map((e) => (e.data as { lateMs: number }).lateMs))

    return failure === undefined ? Promise.resolve() : Promise.reject(failure)
  }
  await bus.subscribe({ group: 'taskstream-test', topic: 'notifications', handle })
  const app = await appFor(t, bus)
  const deliver = () =>
    app.deliver('/events/notifications', asDaprDelivers(fired(1), 'notifications'))

  failure = new AppError('TEST_DOWN', 'database down', { retryable: true })
  t.same((await deliver()).body, { status: 'RETRY' }, 'a retryable failure')
  failure = new Error('unexpected')
  t.same((await deliver()).body, { status: 'RETRY' }, 'a failure that does not say: Dapr retries')
  failure = new AppError('TEST_BAD', 'cannot handle this event')
  t.same((await deliver()).body, { status: 'DROP' }, 'a failure no retry can mend')
  t.same(calls, [1, 1, 1], 'one attempt per delivery: the retry loop is Dapr’s')

  failure = undefined
  const invalid = JSON.stringify({ ...fired(1), data: { taskId: 'nope' } })
  t.same(await app.deliver('/events/notifications', invalid), {
    status: 200,
    body: { status: 'DROP' },
  })
  t.same(await app.deliver('/events/notifications', 'not json'), {
    status: 200,
    body: { status: 'DROP' },
  })
  t.same(calls, [1, 1, 1], 'invalid events never reach the handler')
})

t.test('dapr event bus should ask for a retry while no handler is subscribed', async (t) => {
  const fake = await startFakeSidecar(t)
  const bus = busFor(fake)
  const app = await appFor(t, bus)
  const body = asDaprDelivers(fired(1), 'notifications')

  t.same(
    (await app.deliver('/events/notifications', body)).body,
    { status: 'RETRY' },
    'before subscribe',
  )
  const subscription = await bus.subscribe({
    group: 'taskstream-test',
    topic: 'notifications',
    handle: () => Promise.resolve(),
  })
  t.same((await app.deliver('/events/notifications', body)).body, { status: 'SUCCESS' })
  await subscription.close()
  t.same(
    (await app.deliver('/events/notifications', body)).body,
    { status: 'RETRY' },
    'after close',
  )
})

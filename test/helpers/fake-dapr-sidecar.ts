// A stand-in for daprd's HTTP API on 127.0.0.1, written from Dapr's API reference (pub/sub,
// secrets, state, metadata, health). It records every request so tests can check exactly what
// the app sent; it never calls into the code under test. No Dapr runtime runs in CI.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'

import type { Test } from 'tap'

export interface RecordedRequest {
  method: string
  /** The path with its query, as sent. */
  url: string
  headers: IncomingMessage['headers']
  body: string
}

export interface FakeSidecar {
  port: number
  requests: RecordedRequest[]
  /** Requests whose path (without query) starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[]
  /** Secrets per store and secret name, as a Kubernetes secret store answers them. */
  secrets: Map<string, Record<string, string>>
  /** Answer the next publishes with this status (500: the broker refused). */
  publishStatus: number
  /** The pub/sub components the metadata endpoint lists. */
  components: { name: string; type: string; version: string }[]
}

interface StoredState {
  value: string
  etag: string
}

function send(res: ServerResponse, status: number, body?: unknown, headers = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end()

    return
  }
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body))
}

/** Dapr's error body: { errorCode, message }. */
function daprError(res: ServerResponse, status: number, errorCode: string, message: string): void {
  send(res, status, { errorCode, message })
}

export async function startFakeSidecar(t: Test): Promise<FakeSidecar> {
  const state = new Map<string, StoredState>()
  let version = 0
  const fake: FakeSidecar = {
    port: 0,
    requests: [],
    requestsTo: (prefix) => fake.requests.filter((r) => r.url.split('?')[0]!.startsWith(prefix)),
    secrets: new Map(),
    publishStatus: 204,
    components: [{ name: 'taskevents', type: 'pubsub.kafka', version: 'v1' }],
  }

  const saveItem = (
    res: ServerResponse,
    storeKey: string,
    item: { value: unknown; etag?: string; options?: { concurrency?: string } },
  ): boolean => {
    const current = state.get(storeKey)
    const firstWrite = item.options?.concurrency === 'first-write'
    const stale =
      (item.etag !== undefined && item.etag !== current?.etag) ||
      (item.etag === undefined && firstWrite && current !== undefined)
    if (stale) {
      daprError(
        res,
        409,
        'ERR_STATE_SAVE',
        `failed saving state in state store: possible etag mismatch`,
      )

      return false
    }
    version++
    state.set(storeKey, { value: JSON.stringify(item.value), etag: String(version) })

    return true
  }

  const route = (req: IncomingMessage, res: ServerResponse, body: string) => {
    const [path = '', query = ''] = (req.url ?? '').split('?')
    const params = new URLSearchParams(query)
    const parts = path
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent)
    const [version1, api, a, b] = parts
    if (version1 !== 'v1.0') {
      return send(res, 404)
    }

    if (api === 'metadata' && req.method === 'GET') {
      return send(res, 200, { id: 'test-app', runtimeVersion: 'fake', components: fake.components })
    }
    if (api === 'healthz' && req.method === 'GET') {
      return send(res, 204)
    }
    if (api === 'publish' && req.method === 'POST' && a !== undefined && b !== undefined) {
      if (!fake.components.some((c) => c.name === a)) {
        return daprError(res, 404, 'ERR_PUBSUB_NOT_FOUND', `pubsub ${a} not found`)
      }

      return fake.publishStatus === 204
        ? send(res, 204)
        : daprError(res, fake.publishStatus, 'ERR_PUBSUB_PUBLISH_MESSAGE', 'error when publish')
    }
    if (api === 'secrets' && req.method === 'GET' && a !== undefined && b !== undefined) {
      const secret = fake.secrets.get(`${a}/${b}`)

      return secret === undefined
        ? daprError(res, 403, 'ERR_PERMISSION_DENIED', `access denied by policy to get "${b}"`)
        : send(res, 200, secret)
    }
    if (api === 'state' && a !== undefined) {
      if (req.method === 'POST' && b === undefined) {
        const items = JSON.parse(body) as { key: string; value: unknown; etag?: string }[]
        for (const item of items) {
          if (!saveItem(res, `${a}/${item.key}`, item)) {
            return
          }
        }

        return send(res, 204)
      }
      const stored = b === undefined ? undefined : state.get(`${a}/${b}`)
      if (req.method === 'GET') {
        return stored === undefined
          ? send(res, 204)
          : res
              .writeHead(200, { 'content-type': 'application/json', etag: stored.etag })
              .end(stored.value)
      }
      if (req.method === 'DELETE' && b !== undefined) {
        const ifMatch = req.headers['if-match']
        if (
          ifMatch !== undefined &&
          ifMatch !== stored?.etag &&
          params.get('concurrency') === 'first-write'
        ) {
          return daprError(
            res,
            409,
            'ERR_STATE_DELETE',
            'failed deleting state: possible etag mismatch',
          )
        }
        state.delete(`${a}/${b}`)

        return send(res, 204)
      }
    }

    return send(res, 404)
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      fake.requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
      })
      route(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  fake.port = typeof address === 'object' && address !== null ? address.port : 0
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )

  return fake
}

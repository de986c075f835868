// One Server-Sent Events stream (https://html.spec.whatwg.org/multipage/server-sent-events.html)
// of a user's notifications. Each event carries the notification's sequence as its id, so a
// client that reconnects with `Last-Event-ID` gets what it missed, then the live ones, each once.
import type { IncomingMessage, ServerResponse } from 'node:http'

import type { FastifyBaseLogger } from 'fastify'
import type { Kysely } from 'kysely'

import type { Database } from '../../shared/db/schema.js'
import type { NotificationHub } from './notification-hub.js'
import { listNotificationsAfter, type StoredNotification } from './notification-repository.js'
import { toNotificationBody } from './notification-schemas.js'

export interface StreamOptions {
  request: IncomingMessage
  response: ServerResponse
  userId: string
  /** The `Last-Event-ID` the client sent: replay what came after it. */
  lastEventId: number | undefined
  hub: NotificationHub
  db: Kysely<Database>
  log: FastifyBaseLogger
  heartbeatMs: number
}

const REPLAY_PAGE = 500
// A client this far behind is not reading: drop it; it can reconnect with Last-Event-ID.
const MAX_BUFFERED_BYTES = 1_048_576
/** How long a client waits before reconnecting, told to it in the stream. */
const RETRY_MS = 2_000

export async function openNotificationStream(options: StreamOptions): Promise<void> {
  const { request, response, userId, hub, log } = options
  let lastSent = options.lastEventId ?? 0
  let replaying = options.lastEventId !== undefined
  let closed = false
  const held: StoredNotification[] = []

  const send = (notification: StoredNotification) => {
    if (closed || notification.sequence <= lastSent) {
      return
    }

    const data = JSON.stringify(toNotificationBody(notification))
    response.write(`id: ${notification.sequence}\nevent: ${notification.type}\ndata: ${data}\n\n`)
    lastSent = notification.sequence
    if (response.writableLength > MAX_BUFFERED_BYTES) {
      log.warn({ userId }, 'notification stream too slow, closing')
      close()
    }
  }

  const unsubscribe = hub.subscribe(userId, (notification) => {
    if (replaying) {
      held.push(notification)
    } else {
      send(notification)
    }
  })
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), options.heartbeatMs)
  const forget = hub.onClose(() => close())
  function close(): void {
    if (closed) {
      return
    }

    closed = true
    clearInterval(heartbeat)
    unsubscribe()
    forget()
    response.end()
  }
  request.on('close', close)
  response.on('error', (err) => {
    log.debug({ err }, 'notification stream failed')
    close()
  })

  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  })
  response.write(`retry: ${RETRY_MS}\n: connected\n\n`)

  // Live notifications that arrive during the replay wait, so the stream stays in order.
  try {
    while (replaying && !closed) {
      const page = await listNotificationsAfter(options.db, userId, lastSent, REPLAY_PAGE)
      page.forEach(send)
      replaying = page.length === REPLAY_PAGE
    }
  } catch (err) {
    log.warn({ err, userId }, 'notification replay failed')
    close()

    return
  }
  held.splice(0).forEach(send)
}

// Fires reminders on time. One timer is armed for the next reminder and re-armed whenever the
// schedule changes; a periodic sweep is the safety net. The timer wakes a little early and
// waits out the rest without sleeping, because setTimeout only keeps whole milliseconds and
// fires late under load, never early.
import { performance } from 'node:perf_hooks'

import type { Logger } from '../../shared/logger.js'
import type { Clock } from './reminder-schedule.js'
import type { FiredReminder, ReminderStore } from './reminder-store.js'

export interface ReminderSchedulerOptions {
  store: ReminderStore
  logger: Logger
  /** Default: the system clock. */
  clock?: Clock
  /** Safety-net sweep interval, in milliseconds. */
  sweepMs: number
  /** Reminders claimed per transaction. Default 500. */
  batchSize?: number
  /**
   * Longest single wait; longer ones re-arm. setTimeout overflows (and fires at once) past
   * 2^31-1 ms, about 24.8 days. Default one hour.
   */
  maxTimerMs?: number
  /** How long before a reminder's time the timer wakes, to catch the time exactly. Default 2. */
  leadMs?: number
  /** Called after every committed claim (the role wakes its outbox relay). */
  onFired?: (fired: readonly FiredReminder[]) => void
}

const BACKOFF_MAX_MS = 10_000
// A reminder still due after a claim is held by another replica or waits for a task event that
// will re-arm us; look again a little later rather than spin.
const HELD_RETRY_MS = 250

export class ReminderScheduler {
  readonly #store: ReminderStore
  readonly #log: Logger
  readonly #clock: Clock
  readonly #sweepMs: number
  readonly #batchSize: number
  readonly #maxTimerMs: number
  readonly #leadMs: number
  readonly #onFired: ((fired: readonly FiredReminder[]) => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  /** The time the timer is armed for; undefined when nothing is scheduled. */
  #armedAt: number | undefined
  /** Bumped on every arm, so a superseded wait-out stops. */
  #generation = 0
  #pending = false
  #running: Promise<void> | undefined
  #stopped = false
  #failures = 0

  constructor(options: ReminderSchedulerOptions) {
    this.#store = options.store
    this.#log = options.logger.child({ component: 'reminder-scheduler' })
    this.#clock = options.clock ?? (() => new Date())
    this.#sweepMs = options.sweepMs
    this.#batchSize = options.batchSize ?? 500
    this.#maxTimerMs = options.maxTimerMs ?? 3_600_000
    this.#leadMs = options.leadMs ?? 2
    this.#onFired = options.onFired
  }

  /** Fires what is already due (reminders missed while down) and arms the timer. */
  start(): void {
    this.#sweepTimer = setInterval(() => this.wake(), this.#sweepMs)
    this.#sweepTimer.unref()
    this.wake()
  }

  /** The schedule has a reminder at `at`: re-arms if that is sooner than the armed time. */
  schedule(at: Date): void {
    if (this.#stopped) {
      return
    }
    if (this.#running !== undefined) {
      // The run re-reads the schedule before it arms again.
      this.#pending = true

      return
    }
    if (this.#armedAt === undefined || at.getTime() < this.#armedAt) {
      this.#arm(at.getTime())
    }
  }

  /** Claims what is due now, then re-arms from the store; runs never overlap. */
  wake(): void {
    this.#pending = true
    if (this.#running !== undefined || this.#stopped) {
      return
    }

    this.#running = this.#run().finally(() => {
      this.#running = undefined
    })
  }

  /** Claims what is due now and re-arms; resolves when done (tests, with their own clock). */
  async sweepNow(): Promise<void> {
    this.wake()
    await this.#running
  }

  /** When the timer is armed for (ms since the epoch), for diagnostics and tests. */
  get armedAt(): number | undefined {
    return this.#armedAt
  }

  async stop(): Promise<void> {
    this.#stopped = true
    this.#generation++
    clearInterval(this.#sweepTimer)
    clearTimeout(this.#timer)
    await this.#running
  }

  #now(): number {
    return this.#clock().getTime()
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#stopped) {
      this.#pending = false
      try {
        await this.#claimDue()
        const next = await this.#store.nextDueAt()
        this.#failures = 0
        this.#armFor(next)
      } catch (err) {
        this.#failures++
        const delayMs = Math.min(250 * 2 ** (this.#failures - 1), BACKOFF_MAX_MS)
        this.#log.warn({ err, retryInMs: delayMs }, 'reminder claim failed, will retry')
        this.#arm(this.#now() + delayMs)

        return
      }
    }
  }

  async #claimDue(): Promise<void> {
    for (;;) {
      const fired = await this.#store.claimDue(this.#clock(), this.#batchSize)
      if (fired.length > 0) {
        this.#onFired?.(fired)
        const maxLateMs = Math.max(...fired.map((f) => f.lateMs))
        this.#log.info({ count: fired.length, maxLateMs }, 'reminders fired')
      }
      if (fired.length < this.#batchSize || this.#stopped) {
        return
      }
    }
  }

  #armFor(next: Date | undefined): void {
    if (next === undefined) {
      clearTimeout(this.#timer)
      this.#generation++
      this.#armedAt = undefined

      return
    }

    const now = this.#now()
    this.#arm(next.getTime() <= now ? now + Math.min(HELD_RETRY_MS, this.#sweepMs) : next.getTime())
  }

  #arm(at: number): void {
    clearTimeout(this.#timer)
    const generation = ++this.#generation
    this.#armedAt = at
    const delayMs = Math.min(Math.max(at - this.#now() - this.#leadMs, 0), this.#maxTimerMs)
    this.#timer = setTimeout(() => this.#onTimer(at, generation), delayMs)
  }

  #onTimer(at: number, generation: number): void {
    this.#timer = undefined
    if (at - this.#now() > this.#leadMs) {
      // A capped wait ended, or the clock moved: wait again for the rest.
      this.#arm(at)

      return
    }

    this.#waitOut(at, generation, performance.now())
  }

  // Checks between I/O callbacks (setImmediate) until the time comes, for at most a few
  // milliseconds of real time: a clock that does not move (a test's) must not hold us here.
  #waitOut(at: number, generation: number, startedAt: number): void {
    if (generation !== this.#generation || this.#stopped) {
      return
    }
    if (this.#now() >= at || performance.now() - startedAt > this.#leadMs + 5) {
      this.#armedAt = undefined
      this.wake()

      return
    }

    setImmediate(() => this.#waitOut(at, generation, startedAt))
  }
}

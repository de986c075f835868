// Fires reminders on time. One timer is armed for the next reminder and re-armed whenever the
// schedule changes; a periodic sweep is the safety net. The timer wakes a little early and
// takes the reminders due at that time (holding them, so no other replica can), arms itself
// for the next ones, waits out the rest precisely and fires them the moment they are due. The
// database round trips happen before the reminder time, and one reminder's commit never
// delays the next: the claims of close reminders overlap.
import { performance } from 'node:perf_hooks'
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises'

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
  /** Reminders claimed per transaction. Default 1,000. */
  batchSize?: number
  /** Claims that run at once when many reminders are due together. Default 3. */
  claimConcurrency?: number
  /**
   * Longest single wait; longer ones re-arm. setTimeout overflows (and fires at once) past
   * 2^31-1 ms, about 24.8 days. Default one hour.
   */
  maxTimerMs?: number
  /** How long before a reminder's time the timer wakes to take it. Default 25 ms. */
  leadMs?: number
  /** Called after every committed claim (the role wakes its outbox relay). */
  onFired?: (fired: readonly FiredReminder[]) => void
}

const BACKOFF_MAX_MS = 10_000
// A reminder still due after a claim is held by another replica or waits for a task event that
// will re-arm us; look again a little later rather than spin.
const HELD_RETRY_MS = 250
// setTimeout keeps whole milliseconds and fires late under load: sleep until this close to
// the time, then check between I/O turns.
const SPIN_MS = 2
// Early claims held at once, each with a database connection; past this, a run catches up.
const MAX_EARLY_CLAIMS = 5
// Wake times kept in memory; later ones are forgotten and found again in the store.
const MAX_WAKE_TIMES = 1_000

export class ReminderScheduler {
  readonly #store: ReminderStore
  readonly #log: Logger
  readonly #clock: Clock
  readonly #sweepMs: number
  readonly #batchSize: number
  readonly #claimConcurrency: number
  readonly #maxTimerMs: number
  readonly #leadMs: number
  readonly #onFired: ((fired: readonly FiredReminder[]) => void) | undefined
  readonly #earlyClaims = new Set<Promise<void>>()
  /** Every time something asked to be woken for; the timer is armed for the earliest. */
  readonly #wakeTimes = new Set<number>()
  #timer: NodeJS.Timeout | undefined
  #sweepTimer: NodeJS.Timeout | undefined
  /** The time the timer is armed for; undefined when it is not armed. */
  #armedAt: number | undefined
  #pending = false
  #running: Promise<void> | undefined
  #stopped = false
  #failures = 0

  constructor(options: ReminderSchedulerOptions) {
    this.#store = options.store
    this.#log = options.logger.child({ component: 'reminder-scheduler' })
    this.#clock = options.clock ?? (() => new Date())
    this.#sweepMs = options.sweepMs
    this.#batchSize = options.batchSize ?? 1_000
    this.#claimConcurrency = options.claimConcurrency ?? 3
    this.#maxTimerMs = options.maxTimerMs ?? 3_600_000
    this.#leadMs = options.leadMs ?? 25
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

    this.#armBy(at.getTime())
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
    await Promise.all(this.#earlyClaims)
  }

  /** When the timer is armed for (ms since the epoch), for diagnostics and tests. */
  get armedAt(): number | undefined {
    return this.#armedAt
  }

  async stop(): Promise<void> {
    this.#stopped = true
    clearInterval(this.#sweepTimer)
    clearTimeout(this.#timer)
    await this.#running
    await Promise.all(this.#earlyClaims)
  }

  #now(): number {
    return this.#clock().getTime()
  }

  async #run(): Promise<void> {
    while (this.#pending && !this.#stopped) {
      this.#pending = false
      try {
        const claimedUpTo = await this.#claimDue()
        const next = await this.#store.nextDueAt()
        this.#failures = 0
        if (next !== undefined) {
          // Due by the time the claim looked, yet not claimed: held elsewhere or waiting for
          // its task's event. Due since then: fire it now.
          const held = next.getTime() <= claimedUpTo
          if (!held) {
            this.#forgetBefore(next.getTime())
          }
          this.#armBy(held ? this.#now() + Math.min(HELD_RETRY_MS, this.#sweepMs) : next.getTime())
        }
      } catch (err) {
        this.#failures++
        const delayMs = Math.min(250 * 2 ** (this.#failures - 1), BACKOFF_MAX_MS)
        this.#log.warn({ err, retryInMs: delayMs }, 'reminder claim failed, will retry')
        this.#armBy(this.#now() + delayMs)

        return
      }
    }
  }

  /**
   * Claims everything due now; when a batch comes back full, several claims share the rest.
   * Resolves with the time the last claim looked up to.
   */
  async #claimDue(): Promise<number> {
    let upTo = 0
    const claimOnce = async () => {
      const now = this.#clock()
      upTo = Math.max(upTo, now.getTime())
      const fired = await this.#store.claimDue(now, this.#batchSize)
      this.#report(fired)

      return fired.length === this.#batchSize && !this.#stopped
    }
    const claimAll = async () => {
      while (await claimOnce()) {
        // Keep claiming while full batches come back.
      }
    }

    if (await claimOnce()) {
      await Promise.all(Array.from({ length: this.#claimConcurrency }, claimAll))
    }

    return upTo
  }

  /** Takes the reminders due by `at` before their time and fires them the moment they are due. */
  async #claimEarly(at: number): Promise<void> {
    try {
      let due: Date | undefined
      const fired = await this.#store.claimDue(new Date(at), this.#batchSize, async (upcoming) => {
        // Armed for the next few now, the next claims do not wait for this one to commit.
        for (const next of upcoming) {
          this.#armBy(next.getTime())
        }
        due = await this.#waitUntil(at)

        return due
      })
      this.#report(fired)
      if (due === undefined || fired.length === this.#batchSize) {
        // Nothing to take (claimed already, so not armed for the next either), not fired (a
        // clock that did not move), or more are due: a run sorts it out.
        this.wake()
      }
    } catch (err) {
      this.#log.warn({ err }, 'early reminder claim failed')
      this.wake()
    }
  }

  #report(fired: readonly FiredReminder[]): void {
    if (fired.length === 0) {
      return
    }

    this.#onFired?.(fired)
    const maxLateMs = fired.reduce((max, f) => Math.max(max, f.lateMs), 0)
    this.#log.info({ count: fired.length, maxLateMs }, 'reminders fired')
  }

  /**
   * Resolves with the clock's time once it reaches `at`, or undefined if it has not after the
   * real time that should take (a clock that does not move, such as a test's).
   */
  async #waitUntil(at: number): Promise<Date | undefined> {
    const started = performance.now()
    const budgetMs = Math.max(at - this.#now(), 0) + 50
    for (;;) {
      const now = this.#clock()
      const remainingMs = at - now.getTime()
      if (remainingMs <= 0) {
        return now
      }
      if (this.#stopped || performance.now() - started > budgetMs) {
        return undefined
      }

      await (remainingMs > SPIN_MS ? sleep(remainingMs - SPIN_MS) : nextTurn())
    }
  }

  /** Wakes for `at` too: the timer is always armed for the earliest time asked for. */
  #armBy(at: number): void {
    if (this.#stopped) {
      return
    }

    this.#wakeTimes.add(at)
    if (this.#wakeTimes.size > MAX_WAKE_TIMES) {
      this.#wakeTimes.delete(Math.max(...this.#wakeTimes))
    }
    this.#rearm()
  }

  /** Nothing is scheduled before `at`: earlier wake times would find nothing to do. */
  #forgetBefore(at: number): void {
    for (const time of this.#wakeTimes) {
      if (time < at) {
        this.#wakeTimes.delete(time)
      }
    }
  }

  #rearm(): void {
    const at = this.#wakeTimes.size === 0 ? undefined : Math.min(...this.#wakeTimes)
    if (at === this.#armedAt) {
      return
    }

    clearTimeout(this.#timer)
    this.#armedAt = at
    if (at !== undefined) {
      const delayMs = Math.max(at - this.#now() - this.#leadMs, 0)
      const capped = delayMs > this.#maxTimerMs
      this.#timer = setTimeout(() => this.#onTimer(at, capped), capped ? this.#maxTimerMs : delayMs)
    }
  }

  #onTimer(at: number, capped: boolean): void {
    this.#timer = undefined
    this.#armedAt = undefined
    const remainingMs = at - this.#now()
    if (capped && remainingMs > this.#leadMs) {
      // A capped wait ended: wait again for the rest.
      this.#rearm()

      return
    }

    this.#wakeTimes.delete(at)
    this.#rearm()
    if (remainingMs <= 0 || this.#earlyClaims.size >= MAX_EARLY_CLAIMS) {
      // Woken late (a busy process): claim everything due at once.
      this.wake()
    } else {
      const claim: Promise<void> = this.#claimEarly(at).finally(() => {
        this.#earlyClaims.delete(claim)
      })
      this.#earlyClaims.add(claim)
    }
  }
}

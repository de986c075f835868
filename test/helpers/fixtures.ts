// Test data several suites share: a valid reminder.fired event and the recurrence corpus
// (copied from the team's shared cases into test/fixtures/).
import { readFileSync } from 'node:fs'

import { createEvent, type AnyCloudEvent } from '../../src/events/cloud-event.js'

export const FIXTURE_TASK_ID = '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f'

/** A valid `reminder.fired` event whose `lateMs` tells events apart in assertions. */
export function reminderFired(
  lateMs: number,
  options: { taskId?: string; source?: string } = {},
): AnyCloudEvent {
  const taskId = options.taskId ?? FIXTURE_TASK_ID
  const data = {
    taskId,
    userId: 'u1',
    title: `reminder ${lateMs}`,
    dueAt: '2026-01-01T10:00:00.000Z',
    remindAt: '2026-01-01T09:30:00.000Z',
    firedAt: '2026-01-01T09:30:00.000Z',
    lateMs,
  }

  return createEvent('reminder.fired', data, { source: options.source ?? '/test', key: taskId })
}

export interface RecurrenceCase {
  cron: string
  timezone: string
  after: string
  next: string[]
}

export function recurrenceCorpus(): RecurrenceCase[] {
  const file = new URL('../fixtures/recurrence-cases.json', import.meta.url)

  return JSON.parse(readFileSync(file, 'utf8')) as RecurrenceCase[]
}

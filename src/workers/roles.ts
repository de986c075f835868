// Every worker role by name. A role missing here cannot be started.
import { startAuditWorker } from './audit/audit-worker.js'
import { startRecurrenceWorker } from './recurrence/recurrence-worker.js'
import { startReminderWorker } from './reminder/reminder-worker.js'
import type { RoleName, StartRole } from './worker-role.js'

export const ROLES: Partial<Record<RoleName, StartRole>> = {
  audit: startAuditWorker,
  reminder: startReminderWorker,
  recurrence: startRecurrenceWorker,
}

// Every migration, in order. Add new ones at the end with the next number; never edit one
// that has shipped.
import type { Migration } from 'kysely'

import * as m001 from './001-tasks-outbox-audit.js'
import * as m002 from './002-reminders-notifications.js'
import * as m003 from './003-conversations.js'

export const migrations: Record<string, Migration> = {
  '001-tasks-outbox-audit': m001,
  '002-reminders-notifications': m002,
  '003-conversations': m003,
}

// Every migration, in order. Add new ones at the end with the next number; never edit one
// that has shipped.
import type { Migration } from 'kysely'

import * as m001 from './001-tasks-outbox-audit.js'

export const migrations: Record<string, Migration> = {
  '001-tasks-outbox-audit': m001,
}

// Runs the database migrations and exits: `node dist/backend/migrate.js` (the Kubernetes Job).
import { openDatabase } from '../shared/db/database.js'
import { createLogger } from '../shared/logger.js'
import { loadConfigOrExit } from '../shared/process/bootstrap.js'

const config = loadConfigOrExit()
const logger = createLogger(config.logLevel)
const database = await openDatabase({
  url: config.databaseUrl,
  pgliteDir: config.pgliteDir,
  logger,
})
try {
  await database.migrate()
  logger.info('migrations done')
} finally {
  await database.close()
}

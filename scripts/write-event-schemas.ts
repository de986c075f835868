// Writes the JSON Schema of every event type to src/events/schemas/, for consumers outside
// this codebase. Usage: npm run schemas (a test fails when the files are out of date).
import { mkdir, writeFile } from 'node:fs/promises'

import { EVENT_CATALOGUE, EVENT_TYPES } from '../src/events/catalogue.js'

const dir = new URL('../src/events/schemas/', import.meta.url)
await mkdir(dir, { recursive: true })
for (const type of EVENT_TYPES) {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `${type} data`,
    ...(JSON.parse(JSON.stringify(EVENT_CATALOGUE[type].schema)) as Record<string, unknown>),
  }
  await writeFile(new URL(`${type}.schema.json`, dir), `${JSON.stringify(schema, null, 2)}\n`)
  console.log(`wrote src/events/schemas/${type}.schema.json`)
}

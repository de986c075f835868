// Name-based UUIDs (RFC 9562 section 5.5, version 5): the same name in the same namespace gives
// the same id in any process, so a repeated event or command is recognisable by its id.
import { createHash } from 'node:crypto'

/** The UUID v5 of `name` in `namespace` (16 bytes as 32 hex digits). */
export function nameBasedUuid(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace, 'hex'))
    .update(name, 'utf8')
    .digest()
  const bytes = hash.subarray(0, 16)
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80
  const hex = bytes.toString('hex')

  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

// Prints a development bearer token signed with JWT_SECRET.
// Usage: JWT_SECRET=... npm run dev-token -- [user-id] [ttl, e.g. 30d]
import { signDevToken } from '../src/backend/auth/dev-token.js'

const secret = process.env.JWT_SECRET
if (secret === undefined || secret.length < 32) {
  console.error('set JWT_SECRET (at least 32 characters) to the secret the backend uses')
  process.exit(2)
}

const [userId = 'dev-user', ttl = '30d'] = process.argv.slice(2)
console.log(await signDevToken(secret, userId, ttl))

// Signs a development token for a user with the shared secret (HS256).
import { SignJWT } from 'jose'

export async function signDevToken(secret: string, userId: string, ttl = '30d'): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(new TextEncoder().encode(secret))
}

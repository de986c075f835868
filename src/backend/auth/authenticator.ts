// Bearer-token auth: a JWT signed with the shared secret (HS256) or by a key from a JWKS URL.
// The user is the token's subject; nothing else in the token is trusted.
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose'

import { AppError } from '../../shared/errors.js'

export interface AuthConfig {
  secret: string | undefined
  jwksUrl: string | undefined
  issuer: string | undefined
}

export type Authenticator = (authorization: string | undefined) => Promise<string>

function unauthorized(message: string, cause?: unknown): AppError {
  return new AppError('API_UNAUTHORIZED', message, { statusCode: 401, cause })
}

export function createAuthenticator(config: AuthConfig): Authenticator {
  let key: Uint8Array | JWTVerifyGetKey
  if (config.secret !== undefined) {
    key = new TextEncoder().encode(config.secret)
  } else if (config.jwksUrl !== undefined) {
    key = createRemoteJWKSet(new URL(config.jwksUrl))
  } else {
    throw new Error('auth needs JWT_SECRET or JWT_JWKS_URL')
  }
  const algorithms = config.secret !== undefined ? ['HS256', 'HS384', 'HS512'] : undefined

  return async (authorization) => {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')
    if (match?.[1] === undefined) {
      throw unauthorized('missing bearer token: send Authorization: Bearer <token>')
    }

    try {
      const { payload } = await jwtVerify(match[1], key as Uint8Array, {
        ...(algorithms === undefined ? {} : { algorithms }),
        ...(config.issuer === undefined ? {} : { issuer: config.issuer }),
      })
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw unauthorized('token has no subject')
      }

      return payload.sub
    } catch (err) {
      if (err instanceof AppError) {
        throw err
      }

      throw unauthorized('invalid or expired token', err)
    }
  }
}

/** Optional bearer-token auth: constant-time comparison against a set of API keys. */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { ApiError } from './http-errors.js'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/**
 * Requires `Authorization: Bearer <key>` with one of `keys`. Keys are compared as SHA-256
 * digests with `timingSafeEqual`, so neither content nor length leaks through timing.
 */
export function bearerAuth(keys: readonly string[]): MiddlewareHandler {
  const digests = keys.map(digest)
  return async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer\s+(.+)$/i.exec(header)
    const given = digest(match?.[1]?.trim() ?? '')
    let ok = false
    for (const d of digests) ok = timingSafeEqual(d, given) || ok // no early exit
    if (!ok) {
      c.header('WWW-Authenticate', 'Bearer realm="predict"')
      throw new ApiError(
        'UNAUTHORIZED',
        match ? 'The API key is not valid' : 'Send an API key: Authorization: Bearer <key>'
      )
    }
    await next()
  }
}

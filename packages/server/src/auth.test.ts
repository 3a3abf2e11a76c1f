import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { ServingState } from './serving-state.js'

const logger = pino({ level: 'silent' })

describe('bearer auth and CORS', () => {
  const app = createApp({
    state: new ServingState(),
    logger,
    apiKeys: ['k-one', 'k-two'],
    corsOrigins: ['https://demo.example.com'],
  })
  const predict = (headers: Record<string, string>) =>
    app.request('/predict', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg', ...headers },
      body: 'x',
    })

  it('refuses predict and v2 without a valid key, with 401 and WWW-Authenticate', async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong' },
      { authorization: 'Basic k-one' },
    ]
    for (const headers of attempts) {
      const res = await predict(headers)
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect(await res.json()).toMatchObject({ error: { code: 'UNAUTHORIZED' } })
    }
    expect((await app.request('/v2/models/x')).status).toBe(401)
  })

  it('lets a valid key through (here to 503: no model loaded yet) and keeps health open', async () => {
    expect((await predict({ authorization: 'Bearer k-two' })).status).toBe(503)
    for (const path of ['/healthz', '/v2/health/live', '/', '/metrics']) {
      expect((await app.request(path)).status, path).not.toBe(401)
    }
  })

  it('sends CORS headers to allowed origins only', async () => {
    const allowed = await app.request('/healthz', {
      headers: { origin: 'https://demo.example.com' },
    })
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://demo.example.com')
    const other = await app.request('/healthz', { headers: { origin: 'https://evil.example.net' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })
})

/** Liveness and readiness: `/healthz` never waits on inference; `/readyz` follows the lifecycle. */
import { Hono } from 'hono'
import type { ServingState } from '../serving-state.js'

/** `GET /healthz` (200 while the process serves HTTP) and `GET /readyz` (200 only when ready). */
export function healthRoutes(state: ServingState): Hono {
  const app = new Hono()
  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', (c) => {
    if (state.ready) return c.json({ status: 'ready' })
    c.header('Retry-After', '1')
    return c.json({ status: state.phase }, 503)
  })
  return app
}

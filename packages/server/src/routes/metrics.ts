/** `GET /metrics`: Prometheus text exposition of this instance's registry. */
import { Hono } from 'hono'
import type { ServerMetrics } from '../metrics.js'

/** Serves the registry in the Prometheus text format. */
export function metricsRoute(metrics: ServerMetrics): Hono {
  const app = new Hono()
  app.get('/metrics', async (c) => {
    c.header('Content-Type', metrics.registry.contentType)
    return c.body(await metrics.registry.metrics())
  })
  return app
}

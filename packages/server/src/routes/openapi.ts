/** `GET /openapi.json`: the API description, generated from the route schemas. */
import { Hono } from 'hono'
import { openApiDocument } from '../openapi.js'
import type { ServiceInfo } from './info.js'

/** Serves the OpenAPI document (built once). */
export function openApiRoute(service: ServiceInfo): Hono {
  const app = new Hono()
  const document = openApiDocument(service)
  app.get('/openapi.json', (c) => c.json(document))
  return app
}

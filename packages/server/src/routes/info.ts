/** `GET /`: what this service is and which model it serves. */
import { Hono } from 'hono'
import type { ServingState } from '../serving-state.js'

/** Static description of the service, set by the composition root. */
export interface ServiceInfo {
  readonly name: string
  readonly version: string
}

/** Service info as JSON: status, model identity, endpoints. */
export function infoRoute(state: ServingState, service: ServiceInfo): Hono {
  const app = new Hono()
  app.get('/', (c) => {
    const model = state.model?.info
    return c.json({
      service: service.name,
      version: service.version,
      status: state.phase,
      model: model
        ? {
            name: model.name,
            version: model.version,
            sha256: model.sha256,
            demo: model.demo,
            classes: model.classes,
            input: model.inputName,
          }
        : null,
      endpoints: {
        predict: 'POST /predict (multipart field "image", or a raw image body; ?top_k=N)',
        health: 'GET /healthz',
        ready: 'GET /readyz',
      },
    })
  })
  return app
}

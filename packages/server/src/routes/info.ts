/** `GET /`: what this service is and which model it serves; browsers get the demo page. */
import { Hono } from 'hono'
import { DEMO_PAGE_CSP, DEMO_PAGE_HTML, prefersHtml } from '../demo-page/page.js'
import type { DemoPage } from '../demo-page/table-page.js'
import { IMAGE_USAGE } from '../image-input.js'
import type { ServingState } from '../serving-state.js'

/** Static description of the service, set by the composition root. */
export interface ServiceInfo {
  readonly name: string
  readonly version: string
  /** How to call `POST /predict` before a model is loaded (then the model's input says). */
  readonly predictUsage?: string
}

/**
 * Service info as JSON: status, model identity, endpoints. A client whose `Accept` prefers
 * `text/html` (a browser's navigation) gets the demo page instead; everyone else the JSON.
 */
export function infoRoute(
  state: ServingState,
  service: ServiceInfo,
  demoPage: DemoPage = { html: DEMO_PAGE_HTML, csp: DEMO_PAGE_CSP }
): Hono {
  const app = new Hono()
  app.get('/', (c) => {
    c.header('Vary', 'Accept', { append: true })
    if (prefersHtml(c.req.header('accept'))) {
      c.header('Content-Security-Policy', demoPage.csp)
      c.header('X-Content-Type-Options', 'nosniff')
      c.header('Referrer-Policy', 'no-referrer')
      return c.html(demoPage.html)
    }
    const model = state.model?.info
    const input = state.model?.input
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
            output: model.outputName,
            fixedBatchSize: model.fixedBatchSize ?? null,
          }
        : null,
      // an image model's effective preprocessing, and where each value came from (model, config
      // file, default); a tabular model's features
      ...(input ? input.describe() : { preprocessing: null }),
      endpoints: {
        predict: input?.usage ?? service.predictUsage ?? IMAGE_USAGE,
        health: 'GET /healthz',
        ready: 'GET /readyz',
      },
    })
  })
  return app
}

import { createHash } from 'node:crypto'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../app.js'
import type { ImageModel } from '../model.js'
import { ServingState } from '../serving-state.js'
import { openFixtureModel } from '../test-support.js'
import { DEMO_PAGE_CSP, DEMO_PAGE_HTML, prefersHtml } from './page.js'

const logger = pino({ level: 'silent' })
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8'
const service = { name: 'resnet', version: '9.9.9' }
let model: ImageModel

beforeAll(async () => {
  model = await openFixtureModel()
})
afterAll(() => model.close())

/** Exactly what `GET /` answered before the demo page existed. */
function jsonBefore(served: ImageModel | null, status: string) {
  const info = served?.info
  return {
    service: 'resnet',
    version: '9.9.9',
    status,
    model: info
      ? {
          name: info.name,
          version: info.version,
          sha256: info.sha256,
          demo: info.demo,
          classes: info.classes,
          input: info.inputName,
          output: info.outputName,
          fixedBatchSize: null,
        }
      : null,
    preprocessing: served
      ? {
          input: JSON.parse(JSON.stringify(served.config.input)) as unknown,
          output: JSON.parse(JSON.stringify(served.config.output)) as unknown,
          sources: served.config.sources,
        }
      : null,
    endpoints: {
      predict: 'POST /predict (multipart field "image", or a raw image body; ?top_k=N)',
      health: 'GET /healthz',
      ready: 'GET /readyz',
    },
  }
}

const get = (app: ReturnType<typeof createApp>, accept?: string) =>
  app.request('/', accept === undefined ? {} : { headers: { accept } })

describe('GET / content negotiation', () => {
  it('keeps the exact JSON for */*, no Accept, application/json and ties, with Vary: Accept', async () => {
    const state = new ServingState()
    const app = createApp({ state, logger, service })
    const accepts = [
      undefined,
      '*/*',
      'application/json',
      'application/json, text/html',
      'text/plain',
    ]
    for (const accept of accepts) {
      const loading = await get(app, accept)
      expect(loading.status, accept).toBe(200)
      expect(await loading.json(), accept).toStrictEqual(jsonBefore(null, 'loading'))
    }
    state.setModel(model)
    for (const accept of accepts) {
      const res = await get(app, accept)
      expect(res.headers.get('content-type'), accept).toMatch(/^application\/json/)
      expect(res.headers.get('vary'), accept).toBe('Accept')
      expect(res.headers.get('content-security-policy'), accept).toBeNull()
      expect(await res.json(), accept).toStrictEqual(jsonBefore(model, 'ready'))
    }
  })

  it("serves the page to a browser's navigation with a strict CSP and nosniff", async () => {
    const app = createApp({ state: new ServingState(), logger, service })
    const res = await get(app, BROWSER)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html; charset=utf-8/i)
    expect(res.headers.get('vary')).toBe('Accept')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toBe(DEMO_PAGE_CSP)
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("connect-src 'self'")
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/)
    const html = await res.text()
    expect(html).toBe(DEMO_PAGE_HTML)
    expect(html.startsWith('<!doctype html>')).toBe(true)
  })

  it('adds Accept to the Vary that CORS sets', async () => {
    const app = createApp({
      state: new ServingState(),
      logger,
      corsOrigins: ['https://demo.example.com'],
    })
    const res = await app.request('/', { headers: { origin: 'https://demo.example.com' } })
    const vary = (res.headers.get('vary') ?? '').split(',').map((v) => v.trim())
    expect(vary.sort()).toEqual(['Accept', 'Origin'])
  })

  it('prefers HTML only when text/html outranks JSON', () => {
    const cases: [string | undefined, boolean][] = [
      [undefined, false],
      ['', false],
      ['*/*', false],
      ['application/json', false],
      ['application/json, text/html', false],
      ['text/html;q=0.5, application/json', false],
      ['text/html, */*;q=0', true],
      ['text/html', true],
      ['TEXT/HTML; charset=utf-8', true],
      [BROWSER, true],
      ['text/html;q=0.9, application/json;q=0.5, */*;q=1', true],
      ['text/html;q=oops', false],
    ]
    for (const [accept, html] of cases) expect(prefersHtml(accept), String(accept)).toBe(html)
  })
})

describe('the demo page', () => {
  const inline = (tag: string): string[] =>
    [...DEMO_PAGE_HTML.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1]!)
  const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`

  it('allows exactly its one inline script and one inline style by hash', () => {
    const [script, ...moreScripts] = inline('script')
    const [style, ...moreStyles] = inline('style')
    expect(moreScripts).toEqual([])
    expect(moreStyles).toEqual([])
    expect(DEMO_PAGE_CSP).toContain(`script-src ${hash(script!)};`)
    expect(DEMO_PAGE_CSP).toContain(`style-src ${hash(style!)};`)
  })

  it('loads nothing from elsewhere and has no inline handlers or style attributes', () => {
    const urls = [...DEMO_PAGE_HTML.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])
    expect(urls).toEqual(['data:,'])
    expect(DEMO_PAGE_HTML).not.toMatch(/https?:\/\/|\son[a-z]+=|\sstyle="/i)
  })

  it('labels its inputs and has a live alert region', () => {
    for (const id of ['file', 'key']) {
      expect(DEMO_PAGE_HTML).toContain(`<label for="${id}">`)
      expect(DEMO_PAGE_HTML).toContain(`id="${id}"`)
    }
    expect(DEMO_PAGE_HTML).toMatch(/<input id="file"[^>]*type="file"/)
    expect(DEMO_PAGE_HTML).toContain('role="alert"')
    expect(DEMO_PAGE_HTML).toMatch(/id="drop"[^>]*tabindex="0"/)
    expect(DEMO_PAGE_HTML).toContain('<html lang="en">')
  })
})

/** The demo page in Debian's chromium (playwright-core) against the built server and real model. */
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { BAD_IMAGES_DIR, IMAGES_DIR, MOBILENET_DIR } from '@resnet/test-support'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startApp } from './test-support/app-process.js'
import type { AppProcess } from './test-support/app-process.js'

const SCREENSHOTS = fileURLToPath(new URL('../../../.artifacts/screenshots/', import.meta.url))
/** A photo whose expected.json class is also the accepted top-1 (kimono: class 614). */
const PHOTO = `${IMAGES_DIR}kimono.jpg`
const BROKEN = `${BAD_IMAGES_DIR}sharp__corrupt-header.jpg`
const HEIC = `${BAD_IMAGES_DIR}pillowheif__RGB_8__128x128.heif`

const CHROMIUM = '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
if (!available)
  console.warn(`skipped: the demo page tests need Debian's chromium (apt-get install chromium)`)

let app: AppProcess
let browser: Browser
/** The model as the JSON `GET /` reports it. */
let model: { name: string; version: string }

beforeAll(async () => {
  if (!available) return
  app = await startApp({ MODEL_URI: MOBILENET_DIR, INFERENCE_THREADS: '1', LOG_LEVEL: 'warn' })
  ;[browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    app.waitReady(),
    mkdir(SCREENSHOTS, { recursive: true }),
  ])
  const info = await fetch(`${app.url}/`, { headers: { accept: 'application/json' } })
  model = ((await info.json()) as { model: typeof model }).model
})

afterAll(async () => {
  if (!available) return
  await browser.close()
  await app.stop('SIGKILL')
})

interface Opened {
  readonly page: Page
  /** Every URL the page requested. */
  readonly requests: string[]
  /** Script errors and console errors (CSP violations among them), bar 4xx/5xx fetch noise. */
  readonly errors: string[]
}

/** Opens the page in a fresh context and waits until it shows the model. */
async function open(viewport = { width: 1024, height: 800 }): Promise<Opened> {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const opened: Opened = { page, requests: [], errors: [] }
  page.on('request', (request) => opened.requests.push(request.url()))
  page.on('pageerror', (err) => opened.errors.push(err.message))
  page.on('console', (msg) => {
    const noise = msg.text().startsWith('Failed to load resource')
    if (msg.type() === 'error' && !noise) opened.errors.push(msg.text())
  })
  await page.goto(`${app.url}/`)
  await expect.poll(() => page.locator('#model').textContent()).toContain(model.name)
  return opened
}

/** The server's own error message for these bytes, straight from POST /predict. */
async function serverMessage(file: string): Promise<string> {
  const form = new FormData()
  form.append('image', new Blob([await readFile(file)]), 'upload')
  const res = await fetch(`${app.url}/predict`, { method: 'POST', body: form })
  return ((await res.json()) as { error: { message: string } }).error.message
}

const firstLabel = (page: Page) => page.locator('#predictions li .label').first()

describe.skipIf(!available)('demo page in chromium', () => {
  it('classifies an uploaded photo, shows timings and model, then explains a broken file', async () => {
    const { page, requests, errors } = await open()
    await expect.poll(() => page.locator('#model').textContent()).toContain(model.version)

    await page.getByLabel('Image file').setInputFiles(PHOTO)
    await firstLabel(page).waitFor()
    expect(await firstLabel(page).textContent()).toBe('kimono')
    expect(await page.locator('#predictions li').count()).toBe(5)
    expect(await page.locator('#predictions li .pct').first().textContent()).toMatch(/^\d+\.\d%$/)
    const timings = (await page.locator('#timings').textContent()) ?? ''
    for (const stage of ['Decode', 'Preprocess', 'Queue', 'Inference', 'Total'])
      expect(timings).toContain(stage)
    expect(await page.locator('#alert').textContent()).toBe('')
    await page.screenshot({ path: `${SCREENSHOTS}demo-page.png`, fullPage: true })

    const message = await serverMessage(BROKEN)
    await page.getByLabel('Image file').setInputFiles(BROKEN)
    await expect.poll(() => page.getByRole('alert').textContent()).toContain(message)
    expect(await page.locator('#result').isHidden()).toBe(true)
    await page.screenshot({ path: `${SCREENSHOTS}demo-page-error.png`, fullPage: true })

    await page.getByLabel('Image file').setInputFiles(HEIC)
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toMatch(/^This file type is not supported: HEIC/)

    // everything came from this server: no CDN, fonts or other origins
    const elsewhere = requests.filter((url) => !url.startsWith(`${app.url}/`))
    expect(elsewhere.filter((url) => !/^(?:blob|data):/.test(url))).toEqual([])
    expect(errors).toEqual([])
    await page.context().close()
  })

  it('tells an overloaded server, a missing API key, and works on a phone-sized screen', async () => {
    const { page, errors } = await open({ width: 375, height: 740 })
    // keyboard: Tab reaches the drop zone first, with a visible focus ring, then the file input
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement.id')).toBe('drop')
    const ring = 'getComputedStyle(document.activeElement).outlineStyle'
    expect(await page.evaluate(ring)).toBe('solid')
    await page.keyboard.press('Tab')
    expect(await page.evaluate('document.activeElement.id')).toBe('file')

    await page.route('**/predict', (route) =>
      route.fulfill({
        status: 503,
        headers: { 'retry-after': '3' },
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'OVERLOADED', message: 'The queue is full' } }),
      })
    )
    await page.getByLabel('Image file').setInputFiles(PHOTO)
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/busy.*3 s/)
    expect(await page.getByRole('button', { name: 'Try again' }).isVisible()).toBe(true)

    await page.unroute('**/predict')
    await page.route('**/predict', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'UNAUTHORIZED', message: 'Send an API key' } }),
      })
    )
    await page.getByRole('button', { name: 'Try again' }).click()
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('needs an API key')
    expect(await page.getByLabel('API key', { exact: true }).isVisible()).toBe(true)

    // the key goes out as a bearer token, and the real server answers once the route is gone
    await page.getByLabel('API key', { exact: true }).fill('k-demo')
    await page.unroute('**/predict')
    const sent = page.waitForRequest('**/predict')
    await page.getByLabel('Image file').setInputFiles(`${IMAGES_DIR}goldfish.jpg`)
    expect((await sent).headers().authorization).toBe('Bearer k-demo')
    await firstLabel(page).waitFor()
    expect(await firstLabel(page).textContent()).toBe('goldfish')
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375)
    await page.screenshot({ path: `${SCREENSHOTS}demo-page-phone.png`, fullPage: true })
    expect(errors).toEqual([])
    await page.context().close()
  })
})

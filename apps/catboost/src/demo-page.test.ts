/** The tabular demo page in Debian's chromium (playwright-core) against the built server and real model. */
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { breastCancerTreeBundle, treeBundleAvailable } from '@resnet/test-support'
import type { AppProcess, TreeBundle } from '@resnet/test-support'
import { chromium } from 'playwright-core'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTabularApp } from './test-support.js'

const SCREENSHOTS = fileURLToPath(new URL('../../../.artifacts/screenshots/', import.meta.url))
const CHROMIUM = '/usr/bin/chromium'
const available = existsSync(CHROMIUM) && treeBundleAvailable
if (!available)
  console.warn(
    'skipped: the tabular demo page tests need chromium, python3-sklearn and python3-onnx (apt-get install)'
  )

let app: AppProcess
let browser: Browser
let bundle: TreeBundle

beforeAll(async () => {
  if (!available) return
  bundle = await breastCancerTreeBundle()
  app = await startTabularApp({ MODEL_URI: bundle.dir, LOG_LEVEL: 'warn' })
  ;[browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }),
    app.waitReady(),
    mkdir(SCREENSHOTS, { recursive: true }),
  ])
})

afterAll(async () => {
  if (!available) return
  await browser.close()
  await app.stop('SIGKILL')
})

/** Opens the page and waits for the form generated from features.json; collects script errors. */
async function open(): Promise<{ page: Page; errors: string[] }> {
  const page = await (
    await browser.newContext({ viewport: { width: 1024, height: 900 } })
  ).newPage()
  const errors: string[] = []
  page.on('pageerror', (err) => errors.push(err.message))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) errors.push(msg.text())
  })
  await page.goto(`${app.url}/`)
  await page.getByRole('button', { name: 'Predict' }).waitFor()
  return { page, errors }
}

describe.skipIf(!available)('the tabular demo page in chromium', () => {
  it('is a form of every feature (with its range) and shows the class probabilities as bars', async () => {
    const { page, errors } = await open()
    const inputs = page.locator('form#features input[type=number]')
    expect(await inputs.count()).toBe(bundle.featureNames.length)
    const first = page.getByLabel(bundle.featureNames[0]!, { exact: true })
    expect(await first.getAttribute('min')).toBe('0')
    const [row] = bundle.expected.rows as [number[]]
    const [want] = bundle.expected.probabilities as [number[]]
    for (const [i, name] of bundle.featureNames.entries()) {
      await page.getByLabel(name, { exact: true }).fill(String(row[i]))
    }
    await page.getByRole('button', { name: 'Predict' }).click()
    await page.locator('#result').waitFor()
    const bars = page.getByRole('meter')
    expect(await bars.count()).toBe(2)
    for (const [c, label] of ['malignant', 'benign'].entries()) {
      const value = Number(
        await page.getByRole('meter', { name: label }).getAttribute('aria-valuenow')
      )
      expect(Math.abs(value - want[c]!)).toBeLessThanOrEqual(1e-5)
    }
    const verdict = want[1]! > want[0]! ? 'benign' : 'malignant'
    expect(await page.locator('#verdict').textContent()).toBe(`Most likely: ${verdict}`)
    await page.screenshot({ path: `${SCREENSHOTS}catboost-form.png`, fullPage: true })
    expect(errors).toEqual([])
  })

  it('lists the problems of a bad row as the server reports them', async () => {
    const { page, errors } = await open()
    // fields left empty are sent as 0 (in range); the first one is out of range
    await page.getByLabel(bundle.featureNames[0]!, { exact: true }).fill('-5')
    await page.getByRole('button', { name: 'Predict' }).click()
    const alert = page.getByRole('alert')
    await alert.getByText(/problem\(s\)/).waitFor()
    expect(await alert.textContent()).toContain(`${bundle.featureNames[0]}: -5 is below 0`)
    expect(await page.locator('#result').isHidden()).toBe(true)
    expect(errors).toEqual([])
  })
})

import { readFile } from 'node:fs/promises'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { IMAGES_DIR } from '@resnet/test-support'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import type { BatcherOptions } from './batcher.js'
import type { InferenceModel } from './model.js'
import { ServingState } from './serving-state.js'
import { openFixtureModel } from './test-support.js'

// The server over real HTTP on 127.0.0.1 with the MobileNetV2 fixture.
let model: InferenceModel
let photo: Buffer
const servers: Server[] = []

beforeAll(async () => {
  model = await openFixtureModel()
  photo = await readFile(`${IMAGES_DIR}kimono.jpg`)
})
afterAll(async () => {
  for (const s of servers) s.close()
  await model.close()
})

async function start(batching: BatcherOptions): Promise<{ url: string; state: ServingState }> {
  const state = new ServingState(batching)
  state.setModel(model)
  const app = createApp({ state, logger: pino({ level: 'silent' }) })
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => {
      resolve(s as Server)
    })
  })
  servers.push(server)
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, state }
}

const post = (url: string, init: RequestInit = {}) => {
  const form = new FormData()
  form.append('image', new Blob([photo]))
  return fetch(`${url}/predict`, { method: 'POST', body: form, ...init })
}

const metric = (text: string, line: RegExp): number => Number(line.exec(text)?.[1] ?? NaN)

describe('the server over HTTP', () => {
  it('batches concurrent requests (batch-size metric) and answers every one', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const statuses = await Promise.all(
      Array.from({ length: 24 }, () => post(url).then((r) => r.status))
    )
    expect(statuses).toEqual(new Array(24).fill(200))
    const text = await (await fetch(`${url}/metrics`)).text()
    const runs = metric(text, /^inference_batch_size_count (\d+)/m)
    expect(metric(text, /^inference_batch_size_sum (\d+)/m)).toBe(24)
    expect(runs).toBeLessThan(24)
    expect(text).toMatch(/^model_info\{name="mobilenetv2-int8",version="test",sha256="f{64}"\} 1$/m)
    expect(text).toMatch(
      /^http_requests_total\{route="\/predict",method="POST",status="200"\} 24$/m
    )
    expect(text).toMatch(/^inference_stage_duration_seconds_count\{stage="queue"\} 24$/m)
  })

  it('answers overload with 503 + Retry-After at once, and every accepted request succeeds', async () => {
    const { url } = await start({ maxBatchSize: 2, maxQueue: 4 })
    const responses = await Promise.all(Array.from({ length: 40 }, () => post(url)))
    const refused = responses.filter((r) => r.status === 503)
    const accepted = responses.filter((r) => r.status === 200)
    expect(refused.length).toBeGreaterThan(0)
    expect(accepted.length + refused.length).toBe(40)
    for (const r of refused) {
      expect(r.headers.get('retry-after')).toBe('1')
      expect(await r.json()).toMatchObject({ error: { code: 'OVERLOADED' } })
    }
    for (const r of accepted)
      expect(((await r.json()) as { predictions: unknown[] }).predictions).toHaveLength(5)
  })

  it('uses the ALB trace id as the request id when no X-Request-Id is sent', async () => {
    const { url } = await start({ maxBatchSize: 8, maxQueue: 64 })
    const res = await fetch(`${url}/healthz`, {
      headers: { 'X-Amzn-Trace-Id': 'Root=1-67891233-abcdef012345678912345678' },
    })
    expect(res.headers.get('x-request-id')).toBe('Root=1-67891233-abcdef012345678912345678')
  })
})

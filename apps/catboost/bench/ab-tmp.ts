import { readFileSync } from 'node:fs'
import { startNodeApp } from '@resnet/test-support'
import autocannon from 'autocannon'
const IMG = readFileSync('/work/shared/fixtures/images/cat.jpg')
const boundary = 'abbench'
const body = Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="cat.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
  IMG,
  Buffer.from(`\r\n--${boundary}--\r\n`),
])
const servers = {
  base: '/tmp/wt19-base/apps/resnet/dist/main.js',
  branch: '/work/wt19/apps/resnet/dist/main.js',
}
const apps = {} as Record<string, Awaited<ReturnType<typeof startNodeApp>>>
for (const [k, main] of Object.entries(servers)) {
  apps[k] = await startNodeApp(main, { LOG_LEVEL: 'warn', INFERENCE_THREADS: '2' }, ['--max-semi-space-size=16'])
  await apps[k].waitReady()
}
const rounds: Record<string, { rps: number; p99: number; non2xx: number }[]> = { base: [], branch: [] }
const order = ['base', 'branch', 'branch', 'base', 'base', 'branch', 'branch', 'base', 'base', 'branch']
for (const k of ['base', 'branch']) await autocannon({ url: `${apps[k]!.url}/predict`, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body, connections: 8, duration: 3 })
for (const k of order) {
  const r = await autocannon({ url: `${apps[k]!.url}/predict`, method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body, connections: 8, duration: 8 })
  rounds[k]!.push({ rps: r['2xx'] / 8, p99: r.latency.p99, non2xx: r.non2xx })
  console.log(k, rounds[k]!.at(-1))
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
for (const k of ['base', 'branch']) console.log(k, 'median rps', median(rounds[k]!.map((r) => r.rps)), 'median p99', median(rounds[k]!.map((r) => r.p99)))
console.log('ratio branch/base rps', median(rounds.branch!.map((r) => r.rps)) / median(rounds.base!.map((r) => r.rps)))
for (const a of Object.values(apps)) await a.stop()

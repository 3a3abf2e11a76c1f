// The batch mode end to end: real s3rver, real onnxruntime, the built dist/batch.js as a process.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3'
import { MUTATIONS, mulberry32 } from '@resnet/preprocess/test-support/mutate'
import { expectedClasses, IMAGES_DIR, MOBILENET_DIR, startLocalS3 } from '@resnet/test-support'
import type { LocalS3 } from '@resnet/test-support'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BATCH_NODE_FLAGS } from './launch.js'

const BATCH = fileURLToPath(new URL('../dist/batch.js', import.meta.url))
const INPUT = 's3://photos/in/'
const OUTPUT = 's3://results/job/'
const IMAGES = 1000
/** `batch run` with three workers and 20 shards of 50. */
const RUN = ['--input', INPUT, '--output', OUTPUT, '--workers', '3', '--shard-size', '50']
/** Intact copies of each fixture photo. */
const COPIES = 60
/** Photos whose top-1 is not expected.json's class on every CPU (see server's reference.test.ts). */
const BORDERLINE = new Set(['daisy.jpg'])
/** Objects the test deletes after the plan is written ("deleted during the run"). */
const DELETED = 5
/** Every code an image of this job may get: mutations may decode or not. */
const IMAGE_ERRORS = new Set(['UNDECODABLE_IMAGE', 'UNSUPPORTED_IMAGE', 'IMAGE_TOO_LARGE'])

let s3: LocalS3
/** Key -> what it holds. */
const inputs = new Map<string, { kind: 'photo'; photo: string } | { kind: string }>()

interface Run {
  readonly child: ChildProcess
  readonly exited: Promise<number | null>
  output(): string
  logs(): Record<string, unknown>[]
}

function runBatch(args: string[]): Run {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('MODEL_'))
  )
  const child = spawn(process.execPath, [...BATCH_NODE_FLAGS, BATCH, ...args], {
    env: {
      ...env,
      ...s3.env,
      // s3rver stores streamed uploads corrupted with the SDK's default checksums (FACTS.md)
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      MODEL_URI: MOBILENET_DIR,
      MODEL_CACHE_DIR: `${process.env.TMPDIR ?? '/tmp'}/batch-test-cache`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const logs = () =>
    output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
  return { child, exited, logs, output: () => output }
}

async function listKeys(bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = []
  let token: string | undefined
  do {
    const page = await s3.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token })
    )
    keys.push(...(page.Contents ?? []).map((o) => o.Key!))
    token = page.NextContinuationToken
  } while (token)
  return keys
}

async function resultLines(job = 'job'): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = []
  for (const key of await listKeys('results', `${job}/results/`)) {
    const out = await s3.client.send(new GetObjectCommand({ Bucket: 'results', Key: key }))
    const text = await out.Body!.transformToString()
    lines.push(
      ...text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    )
  }
  return lines
}

const waitFor = async (check: () => Promise<boolean>, what: string): Promise<void> => {
  for (let i = 0; i < 600; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Puts everything with a few uploads in flight. */
async function putAll(objects: [string, Uint8Array][]): Promise<void> {
  let next = 0
  const lane = async () => {
    while (next < objects.length) {
      const [key, body] = objects[next++]!
      await s3.put('photos', key, body)
    }
  }
  await Promise.all(Array.from({ length: 8 }, lane))
}

beforeAll(async () => {
  s3 = await startLocalS3(['photos', 'results'])
  const photos = readdirSync(IMAGES_DIR).filter((f) => /\.(jpg|png)$/.test(f))
  const objects: [string, Uint8Array][] = []
  const add = (
    key: string,
    body: Uint8Array,
    kind: { kind: 'photo'; photo: string } | { kind: string }
  ) => {
    objects.push([key, body])
    inputs.set(key, kind)
  }
  const rng = mulberry32(18)
  const kinds = Object.keys(MUTATIONS)
  for (const [p, photo] of photos.entries()) {
    const bytes = readFileSync(IMAGES_DIR + photo)
    for (let i = 0; i < COPIES; i++)
      add(`in/photo-${p}-${i}-${photo}`, bytes, { kind: 'photo', photo })
    add(`in/truncated-${photo}`, bytes.subarray(0, 40), { kind: 'broken' })
  }
  for (let i = 0; i < 10; i++)
    add(`in/notes-${i}.txt`, Buffer.from(`not an image ${i}\n`), { kind: 'text' })
  for (let i = 0; i < DELETED; i++)
    add(`in/deleted-${i}.jpg`, readFileSync(IMAGES_DIR + photos[0]!), { kind: 'deleted' })
  for (let i = 0; objects.length < IMAGES; i++) {
    const photo = photos[i % photos.length]!
    const kind = kinds[Math.floor(rng() * kinds.length)]!
    const mutated = MUTATIONS[kind]!(readFileSync(IMAGES_DIR + photo), rng)
    add(`in/mutated-${i}-${kind}-${photo}`, mutated, { kind: 'mutated' })
  }
  await putAll(objects)
}, 120_000)
afterAll(() => s3.close())

describe('batch run over S3', () => {
  it('plans once, survives kill -9 of a worker and of the whole run, and a rerun completes every image exactly once', async () => {
    const plan = runBatch(['plan', '--input', INPUT, '--output', OUTPUT, '--shard-size', '50'])
    expect(await plan.exited, plan.output()).toBe(0)
    for (let i = 0; i < DELETED; i++) {
      await s3.client.send(
        new DeleteObjectCommand({ Bucket: 'photos', Key: `in/deleted-${i}.jpg` })
      )
    }

    const first = runBatch(RUN)
    const shardsDone = async () => (await listKeys('results', 'job/results/')).length
    await waitFor(async () => (await shardsDone()) >= 2, 'two shards')
    const worker = first.logs().find((l) => l.msg === 'worker started')!.pid as number
    process.kill(worker, 'SIGKILL')
    await waitFor(async () => (await shardsDone()) >= 6, 'six shards')
    first.child.kill('SIGKILL')
    await first.exited
    const died = first
      .logs()
      .find((l) => l.msg === 'worker died mid-shard; its partial output was never made visible')
    expect(died).toMatchObject({ pid: worker, signal: 'SIGKILL' })
    // the workers of the killed run end with it (their IPC channel closed)
    await new Promise((r) => setTimeout(r, 1000))
    const afterKill = await shardsDone()
    expect(afterKill).toBeLessThan(IMAGES / 50)

    const rerun = runBatch(RUN)
    expect(await rerun.exited, rerun.output()).toBe(2) // some images failed, the job finished
    const summary = rerun.logs().find((l) => l.msg === 'batch summary')!.summary as {
      total: number
      skipped: number
      unfinished: number
      outcomes: Record<string, number>
    }
    expect(summary.total).toBe(IMAGES)
    expect(summary.unfinished).toBe(0)
    expect(summary.skipped).toBeGreaterThanOrEqual(afterKill * 50)

    const lines = await resultLines()
    expect(lines).toHaveLength(IMAGES)
    expect(new Set(lines.map((l) => l.key))).toEqual(new Set(inputs.keys()))
    const expected = expectedClasses()
    for (const line of lines) {
      const input = inputs.get(line.key as string)!
      expect(line.model).toMatchObject({ name: 'mobilenetv2-int8' })
      expect((line.model as { sha256: string }).sha256).toMatch(/^[0-9a-f]{64}$/)
      const predictions = line.predictions as { index: number }[] | undefined
      const error = line.error as { code: string; message: string } | undefined
      if (input.kind === 'photo') {
        expect(predictions).toHaveLength(5)
        const { photo } = input as { photo: string }
        if (!BORDERLINE.has(photo)) expect(expected[photo]).toContain(predictions![0]!.index)
      } else if (input.kind === 'text') {
        expect(error?.code).toBe('UNSUPPORTED_IMAGE')
      } else if (input.kind === 'broken') {
        expect(IMAGE_ERRORS).toContain(error?.code)
      } else if (input.kind === 'deleted') {
        expect(error?.code).toBe('NOT_FOUND')
      } else if (error) {
        expect(IMAGE_ERRORS).toContain(error.code)
      } else {
        expect(predictions).toHaveLength(5)
      }
    }
  })

  it('reads the keys of a manifest (full URIs or keys), in order; a listed key that is not there is an error line', async () => {
    const photo = [...inputs].find(([, v]) => v.kind === 'photo')![0]
    const text = [...inputs].find(([, v]) => v.kind === 'text')![0]
    await s3.put(
      'photos',
      'lists/few.txt',
      Buffer.from(`s3://photos/${photo}\n${text}\n\nin/never-uploaded.jpg\n`)
    )
    const run = runBatch([
      '--manifest',
      's3://photos/lists/few.txt',
      '--output',
      's3://results/few/',
    ])
    expect(await run.exited, run.output()).toBe(2)
    const lines = await resultLines('few')
    expect(lines.map((l) => l.key)).toEqual([photo, text, 'in/never-uploaded.jpg'])
    expect(lines.map((l) => (l.error as { code: string } | undefined)?.code)).toEqual([
      undefined,
      'UNSUPPORTED_IMAGE',
      'NOT_FOUND',
    ])
  })
})

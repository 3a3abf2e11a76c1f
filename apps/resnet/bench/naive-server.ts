// (c) The naive baseline, the tutorial's design written plainly: one request -> one decode -> one
// session.run on the main thread. No batching, no queue, no worker thread, no limits.
// `hono` does not resolve from apps/resnet, so this uses node:http; multipart is parsed with the
// platform's Response.formData(), as Hono's parseBody does.
// Env: HOST, PORT, NAIVE_MODEL_PATH, NAIVE_LABELS_PATH (optional), INFERENCE_THREADS.
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { IncomingMessage, ServerResponse } from 'node:http'
import ort from 'onnxruntime-node'
import { sharp } from './sharp.ts'

const modelPath = process.env.NAIVE_MODEL_PATH
if (!modelPath) throw new Error('NAIVE_MODEL_PATH is required')
const labelsPath = process.env.NAIVE_LABELS_PATH
const labels =
  labelsPath && existsSync(labelsPath) ? readFileSync(labelsPath, 'utf8').trim().split('\n') : []
const threads = Number(process.env.INFERENCE_THREADS ?? 2)

const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads })
const inputName = session.inputNames[0]!
const outputName = session.outputNames[0]!

const SIZE = 224
const MEAN = [0.485, 0.456, 0.406]
const STD = [0.229, 0.224, 0.225]

// torchvision: Resize(256) (shorter side) -> CenterCrop(224) -> ToTensor -> Normalize
async function preprocess(bytes: Buffer): Promise<Float32Array> {
  const { width = 0, height = 0 } = await sharp(bytes).metadata()
  const scale = 256 / Math.min(width, height)
  const w = Math.max(SIZE, Math.round(width * scale))
  const h = Math.max(SIZE, Math.round(height * scale))
  const { data } = await sharp(bytes)
    .removeAlpha()
    .resize(w, h, { fit: 'fill' })
    .extract({ left: (w - SIZE) >> 1, top: (h - SIZE) >> 1, width: SIZE, height: SIZE })
    .raw()
    .toBuffer({ resolveWithObject: true })
  const plane = SIZE * SIZE
  const out = new Float32Array(3 * plane)
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) {
      out[c * plane + i] = (data[i * 3 + c]! / 255 - MEAN[c]!) / STD[c]!
    }
  }
  return out
}

function top5(logits: Float32Array): { label: string; index: number; score: number }[] {
  const max = Math.max(...logits)
  const exp = Array.from(logits, (v) => Math.exp(v - max))
  const sum = exp.reduce((a, b) => a + b, 0)
  return exp
    .map((e, index) => ({ label: labels[index] ?? String(index), index, score: e / sum }))
    .sort((a, b) => b.score - a.score)
    .slice(0, 5)
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

async function predict(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const body = await readBody(req)
  const form = await new Response(body, {
    headers: { 'content-type': req.headers['content-type'] ?? '' },
  }).formData()
  const file = form.get('image')
  if (!file || typeof file === 'string') {
    send(res, 400, { error: { code: 'MISSING_IMAGE', message: 'no image field' } })
    return
  }
  const tensor = await preprocess(Buffer.from(await file.arrayBuffer()))
  const feeds = { [inputName]: new ort.Tensor('float32', tensor, [1, 3, SIZE, SIZE]) }
  const outputs = await session.run(feeds)
  const logits = outputs[outputName]!.data as Float32Array
  send(res, 200, { model: { name: 'naive', version: '0' }, predictions: top5(logits) })
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && (req.url === '/healthz' || req.url === '/readyz')) {
    send(res, 200, { status: 'ok' })
    return
  }
  if (req.method === 'POST' && req.url?.startsWith('/predict')) {
    predict(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        send(res, 400, { error: { code: 'BAD_REQUEST', message: String(err) } })
      }
    })
    return
  }
  send(res, 404, { error: { code: 'NOT_FOUND', message: 'not found' } })
})
server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1')
process.once('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})

// A structurally valid ONNX model of any size (the loader checks the format), streamed to disk:
// ModelProto{ir_version, graph{name, initializer{dims, FLOAT, name, raw_data}}, opset_import},
// random weights. Returns its sha256 for a SHA256SUMS file.
import { createHash, randomFillSync } from 'node:crypto'
import { createWriteStream } from 'node:fs'
import { pipeline } from 'node:stream/promises'

const varint = (n: number): number[] => {
  const out: number[] = []
  for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80)
  return [...out, n]
}
const lengthField = (tag: number, length: number): number[] => [tag, ...varint(length)]

/** Writes an ONNX file whose float32 initializer holds `rawBytes` random bytes; returns its sha256. */
export async function writeBigOnnx(file: string, rawBytes: number): Promise<string> {
  const tensorHead = [0x08, ...varint(rawBytes / 4), 0x10, 0x01, 0x42, 0x01, 0x77]
  const tensor = [...tensorHead, ...lengthField(0x4a, rawBytes)]
  const tensorLength = tensor.length + rawBytes
  const graphHead = [0x12, 0x05, ...Buffer.from('bench'), ...lengthField(0x2a, tensorLength)]
  const graphLength = graphHead.length + tensorLength
  const head = Buffer.from([0x08, 0x08, ...lengthField(0x3a, graphLength), ...graphHead, ...tensor])
  const tail = Buffer.from([0x42, 0x02, 0x10, 0x11]) // opset_import { version: 17 }
  const sha256 = createHash('sha256')
  async function* chunks(): AsyncGenerator<Buffer> {
    for (const chunk of generate()) {
      sha256.update(chunk)
      yield chunk
    }
  }
  function* generate(): Generator<Buffer> {
    yield head
    for (let left = rawBytes; left > 0; left -= 4 << 20) {
      yield randomFillSync(Buffer.allocUnsafe(Math.min(4 << 20, left)))
    }
    yield tail
  }
  await pipeline(chunks(), createWriteStream(file))
  return sha256.digest('hex')
}

/**
 * Cheap sanity checks of bundle files before they enter the cache: model.onnx must be a complete
 * ONNX protobuf (ir_version and a graph, every top-level field inside the file), config.json must
 * be a JSON object, labels.txt UTF-8. Whether onnxruntime accepts the graph is the server's test.
 */
import { open, readFile } from 'node:fs/promises'
import { BUNDLE_FILES, NESTED_BUNDLE_PATHS } from './bundle.js'
import { ModelLoaderError } from './errors.js'

const invalid = (label: string, why: string): ModelLoaderError =>
  new ModelLoaderError('INVALID_MODEL', `${label} is not a valid ONNX model: ${why}`)

/** Decodes a protobuf varint at `at`; undefined when it does not end within `buf`. */
function varint(buf: Uint8Array, at: number): [value: number, bytes: number] | undefined {
  let value = 0
  for (let i = 0; i < 10 && at + i < buf.length; i++) {
    const b = buf[at + i]!
    value += (b & 0x7f) * 2 ** (7 * i)
    if (b < 0x80) return [value, i + 1]
  }
  return undefined
}

interface TopLevel {
  irVersion?: number
  graphBytes?: number
}

/** Advances over one top-level ModelProto field at `pos`; returns the next field's offset. */
function skipField(head: Uint8Array, pos: number, seen: TopLevel, label: string): number {
  const tag = varint(head, 0)
  if (!tag || tag[0] < 8) throw invalid(label, `no protobuf field at byte ${pos}`)
  const field = Math.floor(tag[0] / 8)
  const wire = tag[0] % 8
  if (wire === 1) return pos + tag[1] + 8
  if (wire === 5) return pos + tag[1] + 4
  if (wire !== 0 && wire !== 2) throw invalid(label, `bad wire type ${wire} at byte ${pos}`)
  const value = varint(head, tag[1])
  if (!value) throw invalid(label, `bad varint at byte ${pos}`)
  if (wire === 0) {
    if (field === 1) seen.irVersion = value[0]
    return pos + tag[1] + value[1]
  }
  if (field === 7) seen.graphBytes = value[0]
  return pos + tag[1] + value[1] + value[0]
}

/** Walks the top-level fields of an ONNX ModelProto (a few reads); throws INVALID_MODEL. */
export async function checkOnnxFile(file: string, label: string = file): Promise<void> {
  const fh = await open(file, 'r')
  try {
    const { size } = await fh.stat()
    if (size === 0) throw invalid(label, 'the file is empty')
    const head = Buffer.alloc(24)
    const seen: TopLevel = {}
    let pos = 0
    for (let fields = 0; pos < size; fields++) {
      if (fields > 1_000_000) throw invalid(label, 'too many top-level fields')
      const { bytesRead } = await fh.read(head, 0, head.length, pos)
      pos = skipField(head.subarray(0, bytesRead), pos, seen, label)
      if (pos > size) throw invalid(label, `truncated: a field ends at byte ${pos} of ${size}`)
    }
    if (seen.irVersion === undefined || seen.irVersion < 1 || seen.irVersion > 1000) {
      throw invalid(label, 'no ir_version')
    }
    if (!seen.graphBytes) throw invalid(label, 'no graph')
  } finally {
    await fh.close()
  }
}

/** Checks one downloaded (or local) bundle file by its bundle name; others pass unchecked. */
export async function checkBundleFile(name: string, file: string, label: string): Promise<void> {
  if (name === BUNDLE_FILES.model || name === NESTED_BUNDLE_PATHS.nestedModel)
    return checkOnnxFile(file, label)
  if (
    name === BUNDLE_FILES.config ||
    name === BUNDLE_FILES.preprocessorConfig ||
    name === BUNDLE_FILES.features
  ) {
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8')) as unknown
    } catch (err) {
      throw new ModelLoaderError('INVALID_MODEL', `${label} is not valid JSON`, { cause: err })
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ModelLoaderError('INVALID_MODEL', `${label} must hold a JSON object`)
    }
  }
  if (name === BUNDLE_FILES.labels) {
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(await readFile(file))
    } catch (err) {
      throw new ModelLoaderError('INVALID_MODEL', `${label} is not UTF-8 text`, { cause: err })
    }
  }
}

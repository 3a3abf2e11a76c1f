/** Cheap format checks of bundle files before they enter the cache (see README, Integrity). */
import { open, readFile } from 'node:fs/promises'
import protobuf from 'protobufjs'
import { BUNDLE_FILES, isModelFile } from './bundle.js'
import { ModelLoaderError } from './errors.js'

const invalid = (label: string, why: string): ModelLoaderError =>
  new ModelLoaderError('INVALID_MODEL', `${label} is not a valid ONNX model: ${why}`)

interface TopLevel {
  irVersion?: number
  graphBytes?: number
}

/** The length of the top-level ModelProto field at `pos`, of which `head` holds the first bytes. */
function fieldLength(head: Uint8Array, pos: number, seen: TopLevel, label: string): number {
  const reader = protobuf.Reader.create(head)
  try {
    const tag = reader.uint32()
    const [field, wire] = [tag >>> 3, tag & 7]
    if (field === 0) throw invalid(label, `no protobuf field at byte ${pos}`)
    if (wire === 1 || wire === 5) return reader.pos + (wire === 1 ? 8 : 4)
    if (wire === 0) {
      if (field === 1) seen.irVersion = reader.uint32()
      else reader.skipType(0)
      return reader.pos
    }
    if (wire !== 2) throw invalid(label, `bad wire type ${wire} at byte ${pos}`)
    const length = reader.uint32() // the payload itself is not read
    if (field === 7) seen.graphBytes = length
    return reader.pos + length
  } catch (err) {
    throw err instanceof ModelLoaderError ? err : invalid(label, `bad varint at byte ${pos}`)
  }
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
      pos += fieldLength(head.subarray(0, bytesRead), pos, seen, label)
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
  if (isModelFile(name)) return checkOnnxFile(file, label)
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

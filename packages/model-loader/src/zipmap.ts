/** The ZipMap rewrite, on protobufjs wire fields (see README, Tabular bundles and ZipMap). */
import protobuf from 'protobufjs'

/** One field of a message: its number and its whole encoding (tag, length and payload). */
export interface WireField {
  readonly number: number
  readonly bytes: Uint8Array
}

/** The top-level fields of `message`, in order. */
export function fieldsOf(message: Uint8Array): WireField[] {
  const reader = protobuf.Reader.create(message)
  const fields: WireField[] = []
  while (reader.pos < reader.len) {
    const start = reader.pos
    const tag = reader.uint32()
    reader.skipType(tag & 7)
    fields.push({ number: tag >>> 3, bytes: message.subarray(start, reader.pos) })
  }
  return fields
}

/** The payload of a length-delimited field (an embedded message, string or bytes). */
export function payloadOf(field: WireField): Uint8Array {
  const reader = protobuf.Reader.create(field.bytes)
  reader.uint32()
  return reader.bytes()
}

// field numbers of onnx.proto
const MODEL_GRAPH = 7
const GRAPH = { node: 1, output: 12 } as const
const NODE = { input: 1, output: 2, opType: 4 } as const
const VALUE_INFO_NAME = 1
const FLOAT = 1

const stringsOf = (fields: readonly WireField[], number: number): string[] =>
  fields.filter((f) => f.number === number).map((f) => Buffer.from(payloadOf(f)).toString('utf8'))

/** A length-delimited field `number` holding `payload` (a string or an embedded message). */
function field(number: number, payload: Uint8Array | string): Uint8Array {
  const writer = protobuf.Writer.create().uint32((number << 3) | 2)
  return (typeof payload === 'string' ? writer.string(payload) : writer.bytes(payload)).finish()
}

/** A graph output: a float tensor of shape [N, C] (both symbolic). */
function floatMatrixOutput(name: string): Uint8Array {
  // ValueInfoProto { name, type { tensor_type { elem_type, shape { dim { dim_param } } } } }
  const shape = Buffer.concat(['N', 'C'].map((param) => field(1, field(2, param))))
  const elemType = protobuf.Writer.create()
    .uint32(1 << 3)
    .int32(FLOAT)
    .finish()
  const type = field(1, Buffer.concat([elemType, field(2, shape)]))
  return field(GRAPH.output, Buffer.concat([field(VALUE_INFO_NAME, name), field(2, type)]))
}

/** The model with its ZipMaps removed, and which outputs were replaced (`from` -> `to`). */
export interface ZipMapRewrite {
  readonly model: Uint8Array
  readonly replaced: readonly { readonly from: string; readonly to: string }[]
}

/**
 * Drops every `ZipMap` node whose output is a graph output and makes its input (the probability
 * tensor) that graph output. A model without ZipMap comes back as it is (the same bytes).
 * Throws when a ZipMap feeds another node (nothing to expose in its place).
 */
export function exposeZipMapInputs(model: Uint8Array): ZipMapRewrite {
  const modelFields = fieldsOf(model)
  const graphField = modelFields.find((f) => f.number === MODEL_GRAPH)
  if (!graphField) throw new Error('Not an ONNX model: no graph')
  const zipMaps = new Map<string, string>() // ZipMap output -> its input
  const kept = fieldsOf(payloadOf(graphField)).filter((f) => {
    const node = f.number === GRAPH.node ? fieldsOf(payloadOf(f)) : []
    if (stringsOf(node, NODE.opType)[0] !== 'ZipMap') return true
    const [input] = stringsOf(node, NODE.input)
    const [output] = stringsOf(node, NODE.output)
    if (input === undefined || output === undefined) throw new Error('ZipMap without input/output')
    zipMaps.set(output, input)
    return false
  })
  if (zipMaps.size === 0) return { model, replaced: [] }
  for (const f of kept.filter((f) => f.number === GRAPH.node)) {
    const fed = stringsOf(fieldsOf(payloadOf(f)), NODE.input).find((name) => zipMaps.has(name))
    if (fed) throw new Error(`ZipMap output "${fed}" feeds another node; cannot expose its input`)
  }
  const replaced: { from: string; to: string }[] = []
  const graph = kept.map((f) => {
    const [name] =
      f.number === GRAPH.output ? stringsOf(fieldsOf(payloadOf(f)), VALUE_INFO_NAME) : []
    const input = name === undefined ? undefined : zipMaps.get(name)
    if (name === undefined || input === undefined) return f.bytes
    replaced.push({ from: name, to: input })
    return floatMatrixOutput(input)
  })
  const newGraph = field(MODEL_GRAPH, Buffer.concat(graph))
  const out = modelFields.map((f) => (f.number === MODEL_GRAPH ? newGraph : f.bytes))
  return { model: Buffer.concat(out), replaced }
}

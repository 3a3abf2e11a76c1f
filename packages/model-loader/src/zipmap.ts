/**
 * Serving tree-ensemble exports as they come: skl2onnx, onnxmltools (LightGBM, XGBoost) and
 * CatBoost end a classifier with a `ZipMap` node (probabilities as a sequence of maps), which
 * onnxruntime-node cannot return ("Non tensor type is temporarily not supported"). This drops
 * each ZipMap whose output is a graph output and exposes its input, the float `[N, C]`
 * probability tensor, as that output instead. Only the node list and the outputs are touched:
 * every other field (weights, trees, opsets) is copied byte for byte. Built on protobufjs' wire
 * Reader/Writer (the kept library), with the field numbers of onnx.proto.
 */
import protobuf from 'protobufjs'
import { fieldsOf, payloadOf } from './onnx-wire.js'
import type { WireField } from './onnx-wire.js'

const MODEL = { graph: 7 } as const
const GRAPH = { node: 1, output: 12 } as const
const NODE = { input: 1, output: 2, opType: 4 } as const
const VALUE_INFO = { name: 1, type: 2 } as const
const FLOAT = 1
const LENGTH_DELIMITED = 2

const stringsOf = (fields: readonly WireField[], number: number): string[] =>
  fields
    .filter((f) => f.number === number)
    .map((f) => protobuf.util.utf8.read(payloadOf(f), 0, payloadOf(f).length))

const embed = (number: number, payload: Uint8Array): Uint8Array =>
  protobuf.Writer.create()
    .uint32((number << 3) | LENGTH_DELIMITED)
    .bytes(payload)
    .finish()

/** A graph output: a float tensor of shape [N, C] (both symbolic). */
function floatMatrixOutput(name: string): Uint8Array {
  const dim = (param: string): Uint8Array =>
    protobuf.Writer.create()
      .uint32((2 << 3) | LENGTH_DELIMITED)
      .string(param)
      .finish()
  const shape = protobuf.Writer.create()
  for (const param of ['N', 'C']) shape.uint32((1 << 3) | LENGTH_DELIMITED).bytes(dim(param))
  const tensor = protobuf.Writer.create()
    .uint32(1 << 3)
    .int32(FLOAT)
    .uint32((2 << 3) | LENGTH_DELIMITED)
    .bytes(shape.finish())
    .finish()
  const type = embed(1, tensor)
  const info = protobuf.Writer.create()
    .uint32((VALUE_INFO.name << 3) | LENGTH_DELIMITED)
    .string(name)
    .uint32((VALUE_INFO.type << 3) | LENGTH_DELIMITED)
    .bytes(type)
    .finish()
  return embed(GRAPH.output, info)
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
  const graphField = modelFields.find((f) => f.number === MODEL.graph)
  if (!graphField) throw new Error('Not an ONNX model: no graph')
  const graph = fieldsOf(payloadOf(graphField))
  const zipMaps = new Map<string, string>() // ZipMap output -> its input
  const kept = graph.filter((field) => {
    if (field.number !== GRAPH.node) return true
    const node = fieldsOf(payloadOf(field))
    if (stringsOf(node, NODE.opType)[0] !== 'ZipMap') return true
    const [input] = stringsOf(node, NODE.input)
    const [output] = stringsOf(node, NODE.output)
    if (input === undefined || output === undefined) throw new Error('ZipMap without input/output')
    zipMaps.set(output, input)
    return false
  })
  if (zipMaps.size === 0) return { model, replaced: [] }
  for (const field of kept.filter((f) => f.number === GRAPH.node)) {
    const inputs = stringsOf(fieldsOf(payloadOf(field)), NODE.input)
    const fed = inputs.find((name) => zipMaps.has(name))
    if (fed) throw new Error(`ZipMap output "${fed}" feeds another node; cannot expose its input`)
  }
  const replaced: { from: string; to: string }[] = []
  const parts = kept.map((field) => {
    if (field.number !== GRAPH.output) return field.bytes
    const [name] = stringsOf(fieldsOf(payloadOf(field)), VALUE_INFO.name)
    const input = name === undefined ? undefined : zipMaps.get(name)
    if (name === undefined || input === undefined) return field.bytes
    replaced.push({ from: name, to: input })
    return floatMatrixOutput(input)
  })
  const newGraph = embed(MODEL.graph, concat(parts))
  const out = modelFields.map((f) => (f.number === MODEL.graph ? newGraph : f.bytes))
  return { model: concat(out), replaced }
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const total = chunks.reduce((n, c) => n + c.length, 0)
  const out = new Uint8Array(total)
  let at = 0
  for (const chunk of chunks) {
    out.set(chunk, at)
    at += chunk.length
  }
  return out
}

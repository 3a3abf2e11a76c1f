/**
 * Graph surgery on a real ONNX file for tests: new nodes before its input and after its output,
 * and new graph inputs/outputs, without decoding its weights. The ModelProto is split into its
 * fields with protobufjs' Reader; the new parts are encoded by the project's own ONNX encoder
 * (`encodeModel` of @resnet/model-loader) and spliced in as fields.
 */
import { encodeModel, fieldsOf, payloadOf } from '@resnet/model-loader'
import type { NodeSpec, TensorSpec, ValueInfoSpec, WireField as Field } from '@resnet/model-loader'
import protobuf from 'protobufjs'

const MODEL_GRAPH = 7
const GRAPH = { node: 1, initializer: 5, input: 11, output: 12 } as const

const graphOf = (model: Uint8Array): Field[] => {
  const graph = fieldsOf(model).find((f) => f.number === MODEL_GRAPH)
  if (!graph) throw new Error('not an ONNX model: no graph')
  return fieldsOf(payloadOf(graph))
}

/** What to put around the model: `pre` nodes feed its input, `post` nodes read its output. */
export interface GraphWrap {
  readonly pre?: readonly NodeSpec[]
  readonly post?: readonly NodeSpec[]
  readonly initializers?: readonly TensorSpec[]
  /** Replaces the graph's inputs (for a renamed or retyped input, or a fixed batch). */
  readonly inputs?: readonly ValueInfoSpec[]
  /** Replaces the graph's outputs. */
  readonly outputs?: readonly ValueInfoSpec[]
}

/** The encoded graph fields of a graph holding just these parts (opset of the original kept). */
function encodedParts(nodes: readonly NodeSpec[], wrap: GraphWrap): Field[] {
  const chunks = encodeModel({
    irVersion: 7,
    producerName: 'test',
    opsetVersion: 12,
    graph: {
      name: 'parts',
      nodes,
      initializers: wrap.initializers ?? [],
      inputs: wrap.inputs ?? [],
      outputs: wrap.outputs ?? [],
    },
  })
  return graphOf(Buffer.concat(chunks))
}

/** Returns a copy of `model` (ONNX bytes) with `wrap` applied. */
export function wrapGraph(model: Uint8Array, wrap: GraphWrap): Uint8Array {
  const original = graphOf(model)
  const pre = encodedParts(wrap.pre ?? [], wrap)
  const post = encodedParts(wrap.post ?? [], {})
  const of = (fields: Field[], n: number): Field[] => fields.filter((f) => f.number === n)
  const keep = original.filter(
    (f) =>
      f.number !== GRAPH.node &&
      !(wrap.inputs && f.number === GRAPH.input) &&
      !(wrap.outputs && f.number === GRAPH.output)
  )
  const graph = [
    ...of(pre, GRAPH.node),
    ...of(original, GRAPH.node),
    ...of(post, GRAPH.node),
    ...keep,
    ...of(pre, GRAPH.initializer),
    ...(wrap.inputs ? of(pre, GRAPH.input) : []),
    ...(wrap.outputs ? of(pre, GRAPH.output) : []),
  ]
  const graphBytes = Buffer.concat(graph.map((f) => f.bytes))
  const graphField = protobuf.Writer.create()
    .uint32((MODEL_GRAPH << 3) | 2)
    .bytes(graphBytes)
    .finish()
  const top = fieldsOf(model).map((f) => (f.number === MODEL_GRAPH ? graphField : f.bytes))
  return Buffer.concat(top)
}

// Minimal hand-written protobuf encoder for the few ONNX messages the demo model needs.

/** An encoded protobuf fragment: byte chunks (in order) plus their total length. */
export interface Encoded {
  readonly chunks: readonly Uint8Array[]
  readonly byteLength: number
}

/** ONNX TensorProto.DataType / TensorProto elem_type values used here. */
export const OnnxDataType = { FLOAT: 1, UINT8: 2, FLOAT16: 10 } as const

/** One of the {@link OnnxDataType} values. */
export type OnnxDataTypeValue = (typeof OnnxDataType)[keyof typeof OnnxDataType]

/** ONNX AttributeProto.AttributeType values used here. */
export const OnnxAttributeType = { FLOAT: 1, INT: 2, INTS: 7 } as const

/** A node attribute: a float, an int or a list of ints. */
export type AttributeSpec =
  | { readonly name: string; readonly type: 'float'; readonly value: number }
  | { readonly name: string; readonly type: 'int'; readonly value: number }
  | { readonly name: string; readonly type: 'ints'; readonly value: readonly number[] }

/** One graph node (NodeProto). */
export interface NodeSpec {
  readonly name: string
  readonly opType: string
  readonly inputs: readonly string[]
  readonly outputs: readonly string[]
  readonly attributes?: readonly AttributeSpec[]
}

/** A float32 initializer (TensorProto with raw_data). */
export interface TensorSpec {
  readonly name: string
  readonly dims: readonly number[]
  readonly data: Float32Array
}

/** A graph input or output; a string dim is symbolic (dim_param), a number is fixed. */
export interface ValueInfoSpec {
  readonly name: string
  readonly shape: readonly (number | string)[]
  /** Element type. @default OnnxDataType.FLOAT */
  readonly elemType?: OnnxDataTypeValue
}

/** A GraphProto: nodes in topological order, initializers, inputs and outputs. */
export interface GraphSpec {
  readonly name: string
  readonly nodes: readonly NodeSpec[]
  readonly initializers: readonly TensorSpec[]
  readonly inputs: readonly ValueInfoSpec[]
  readonly outputs: readonly ValueInfoSpec[]
}

/** A ModelProto with a single default-domain opset import. */
export interface ModelSpec {
  readonly irVersion: number
  readonly producerName: string
  readonly opsetVersion: number
  readonly graph: GraphSpec
}

const WIRE_VARINT = 0
const WIRE_LEN = 2
const WIRE_FIXED32 = 5
const SMALL_CHUNK = 64 * 1024
const textEncoder = new TextEncoder()
const littleEndianHost = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function varintBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`varint out of range: ${value}`)
  const out: number[] = []
  if (value < 0) {
    // int64 two's complement: always 10 bytes
    let v = BigInt.asUintN(64, BigInt(value))
    for (let i = 0; i < 9; i++) {
      out.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    out.push(Number(v))
    return Uint8Array.from(out)
  }
  let v = value
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80)
    v = Math.floor(v / 0x80)
  }
  out.push(v)
  return Uint8Array.from(out)
}

function tag(field: number, wireType: number): Uint8Array {
  return varintBytes(field * 8 + wireType)
}

function fromChunks(chunks: Uint8Array[]): Encoded {
  let byteLength = 0
  for (const c of chunks) byteLength += c.byteLength
  return { chunks, byteLength }
}

/** Concatenates encoded fields into one message body (no copying of chunk bytes). */
export function message(...fields: readonly Encoded[]): Encoded {
  return fromChunks(fields.flatMap((f) => f.chunks))
}

/** Encodes a varint field (int32/int64/enum, non-negative or negative int64). */
export function varintField(field: number, value: number): Encoded {
  return fromChunks([tag(field, WIRE_VARINT), varintBytes(value)])
}

/** Encodes a float (fixed32, little-endian) field. */
export function floatField(field: number, value: number): Encoded {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setFloat32(0, value, true)
  return fromChunks([tag(field, WIRE_FIXED32), b])
}

/** Encodes a length-delimited bytes field; the bytes are referenced, not copied. */
export function bytesField(field: number, bytes: Uint8Array): Encoded {
  return fromChunks([tag(field, WIRE_LEN), varintBytes(bytes.byteLength), bytes])
}

/** Encodes a UTF-8 string field. */
export function stringField(field: number, value: string): Encoded {
  return bytesField(field, textEncoder.encode(value))
}

/** Encodes an embedded message field (length prefix + the message's chunks). */
export function messageField(field: number, body: Encoded): Encoded {
  return fromChunks([tag(field, WIRE_LEN), varintBytes(body.byteLength), ...body.chunks])
}

/** Returns the little-endian bytes of a float32 array (a view when the host is little-endian). */
export function float32LeBytes(data: Float32Array): Uint8Array {
  if (littleEndianHost) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
  const out = new Uint8Array(data.byteLength)
  const view = new DataView(out.buffer)
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true)
  return out
}

function encodeAttribute(a: AttributeSpec): Encoded {
  const name = stringField(1, a.name)
  switch (a.type) {
    case 'float':
      return message(name, floatField(2, a.value), varintField(20, OnnxAttributeType.FLOAT))
    case 'int':
      return message(name, varintField(3, a.value), varintField(20, OnnxAttributeType.INT))
    case 'ints':
      return message(
        name,
        ...a.value.map((v) => varintField(8, v)),
        varintField(20, OnnxAttributeType.INTS)
      )
  }
}

function encodeNode(n: NodeSpec): Encoded {
  return message(
    ...n.inputs.map((s) => stringField(1, s)),
    ...n.outputs.map((s) => stringField(2, s)),
    stringField(3, n.name),
    stringField(4, n.opType),
    ...(n.attributes ?? []).map((a) => messageField(5, encodeAttribute(a)))
  )
}

function encodeTensor(t: TensorSpec): Encoded {
  const expected = t.dims.reduce((a, b) => a * b, 1)
  if (expected !== t.data.length) {
    throw new Error(`tensor ${t.name}: dims ${t.dims.join('x')} != ${t.data.length} values`)
  }
  return message(
    ...t.dims.map((d) => varintField(1, d)),
    varintField(2, OnnxDataType.FLOAT),
    stringField(8, t.name),
    bytesField(9, float32LeBytes(t.data))
  )
}

function encodeValueInfo(v: ValueInfoSpec): Encoded {
  const dims = v.shape.map((d) =>
    messageField(1, typeof d === 'number' ? varintField(1, d) : stringField(2, d))
  )
  const elemType = v.elemType ?? OnnxDataType.FLOAT
  const tensorType = message(varintField(1, elemType), messageField(2, message(...dims)))
  return message(stringField(1, v.name), messageField(2, messageField(1, tensorType)))
}

function encodeGraph(g: GraphSpec): Encoded {
  return message(
    ...g.nodes.map((n) => messageField(1, encodeNode(n))),
    stringField(2, g.name),
    ...g.initializers.map((t) => messageField(5, encodeTensor(t))),
    ...g.inputs.map((v) => messageField(11, encodeValueInfo(v))),
    ...g.outputs.map((v) => messageField(12, encodeValueInfo(v)))
  )
}

/** Merges runs of small chunks into buffers of up to 64 KiB; large chunks pass through as-is. */
export function coalesceChunks(chunks: readonly Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = []
  let run: Uint8Array[] = []
  let runLength = 0
  const flush = (): void => {
    if (run.length === 1) out.push(run[0]!)
    else if (run.length > 1) out.push(Buffer.concat(run, runLength))
    run = []
    runLength = 0
  }
  for (const c of chunks) {
    if (c.byteLength >= SMALL_CHUNK) {
      flush()
      out.push(c)
    } else {
      if (runLength + c.byteLength > SMALL_CHUNK) flush()
      run.push(c)
      runLength += c.byteLength
    }
  }
  flush()
  return out
}

/** Encodes a ModelProto as byte chunks; concatenated in order they form the .onnx file. */
export function encodeModel(model: ModelSpec): Uint8Array[] {
  const opset = message(stringField(1, ''), varintField(2, model.opsetVersion))
  const encoded = message(
    varintField(1, model.irVersion),
    stringField(2, model.producerName),
    messageField(7, encodeGraph(model.graph)),
    messageField(8, opset)
  )
  return coalesceChunks(encoded.chunks)
}

/** ONNX protobuf files as wire fields (protobufjs' Reader), for surgery that decodes no weights. */
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

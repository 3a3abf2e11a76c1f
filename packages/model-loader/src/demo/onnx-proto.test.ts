// Unit tests for the minimal ONNX protobuf encoder's wire format.
import { endianness } from 'node:os'
import { describe, expect, it } from 'vitest'
import {
  bytesField,
  coalesceChunks,
  float32LeBytes,
  floatField,
  message,
  messageField,
  stringField,
  varintField,
} from './onnx-proto.js'
import type { Encoded } from './onnx-proto.js'

function bytes(e: Encoded): number[] {
  return [...Buffer.concat(e.chunks)]
}

describe('onnx-proto wire format', () => {
  it('encodes varints (single byte, multi byte, negative int64)', () => {
    expect(bytes(varintField(1, 1))).toEqual([0x08, 0x01])
    expect(bytes(varintField(1, 300))).toEqual([0x08, 0xac, 0x02])
    expect(bytes(varintField(20, 7))).toEqual([0xa0, 0x01, 0x07])
    expect(bytes(varintField(1, 2 ** 40))).toEqual([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20])
    expect(bytes(varintField(3, -1))).toEqual([0x18, ...Array<number>(9).fill(0xff), 0x01])
    expect(() => varintField(1, 0.5)).toThrow(RangeError)
  })

  it('encodes floats as little-endian fixed32', () => {
    expect(bytes(floatField(2, 1))).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f])
  })

  it('encodes strings, bytes and nested messages with length prefixes', () => {
    expect(bytes(stringField(2, 'ab'))).toEqual([0x12, 0x02, 0x61, 0x62])
    expect(bytes(bytesField(9, new Uint8Array(200)))).toEqual([
      0x4a,
      0xc8,
      0x01,
      ...Array<number>(200).fill(0),
    ])
    const inner = message(varintField(1, 5), stringField(2, 'x'))
    expect(bytes(messageField(7, inner))).toEqual([0x3a, 0x05, 0x08, 0x05, 0x12, 0x01, 0x78])
    expect(messageField(7, inner).byteLength).toBe(7)
  })

  it.runIf(endianness() === 'LE')('references float32 data without copying on LE hosts', () => {
    const data = new Float32Array([1, -2, 0.5])
    const raw = float32LeBytes(data)
    expect([...raw.subarray(0, 4)]).toEqual([0x00, 0x00, 0x80, 0x3f])
    expect(raw.byteLength).toBe(12)
    data[0] = 0
    expect([...raw.subarray(0, 4)]).toEqual([0, 0, 0, 0])
  })

  it('coalesces runs of small chunks but passes large ones through by reference', () => {
    const big = new Uint8Array(70_000).fill(7)
    const small = [new Uint8Array([1]), new Uint8Array([2, 3])]
    const out = coalesceChunks([...small, big, ...small])
    expect(out).toHaveLength(3)
    expect(out[1]).toBe(big)
    expect([...out[0]!]).toEqual([1, 2, 3])
    expect(Buffer.concat(out)).toEqual(Buffer.concat([...small, big, ...small]))
  })
})

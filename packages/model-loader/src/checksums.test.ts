import { describe, expect, it } from 'vitest'
import {
  digestsToCompute,
  fromS3Checksums,
  md5FromEtag,
  parseSha256Sums,
  verifyDigests,
} from './checksums.js'

const SHA = 'a'.repeat(64)

describe('checksums', () => {
  it('reads the MD5 from a single-part ETag, not from a multipart one', () => {
    expect(md5FromEtag('"9E107D9D372BB6826BD81D3542A419D6"')).toMatchObject({
      hex: '9e107d9d372bb6826bd81d3542a419d6',
    })
    expect(md5FromEtag('"9e107d9d372bb6826bd81d3542a419d6-12"')).toBeUndefined()
  })

  it('turns full-object S3 checksums (base64) into hex, skipping composite ones', () => {
    const sha256 = Buffer.from(SHA, 'hex').toString('base64')
    expect(
      fromS3Checksums({
        ChecksumSHA256: sha256,
        ChecksumCRC32: 'y/Q5Jg==',
        ChecksumType: 'FULL_OBJECT',
      })
    ).toEqual([
      { algorithm: 'sha256', hex: SHA, source: 'S3 ChecksumSHA256' },
      { algorithm: 'crc32', hex: 'cbf43926', source: 'S3 ChecksumCRC32' },
    ])
    expect(fromS3Checksums({ ChecksumSHA256: `${sha256}-3` })).toEqual([])
    expect(fromS3Checksums({ ChecksumSHA256: sha256, ChecksumType: 'COMPOSITE' })).toEqual([])
  })

  it('parses sha256sum output in text and binary mode', () => {
    const sums = parseSha256Sums(
      `${SHA}  model.onnx\r\n${'B'.repeat(64)} *./labels.txt\nnot a line\n`
    )
    expect([...sums]).toEqual([
      ['model.onnx', SHA],
      ['labels.txt', 'b'.repeat(64)],
    ])
  })

  it('computes sha256 always, and MD5 only when nothing stronger is known', () => {
    const md5 = { algorithm: 'md5', hex: '0'.repeat(32), source: 'S3 ETag (MD5)' } as const
    const sum = { algorithm: 'sha256', hex: SHA, source: 'SHA256SUMS' } as const
    expect(digestsToCompute([])).toEqual(['sha256'])
    expect(digestsToCompute([md5])).toEqual(['sha256', 'md5'])
    expect(digestsToCompute([md5, sum])).toEqual(['sha256'])
    expect(verifyDigests('m', { sha256: SHA }, [md5, sum])).toEqual(['SHA256SUMS'])
    const mismatch = (): string[] =>
      verifyDigests('s3://b/m.onnx', { sha256: 'c'.repeat(64) }, [sum])
    expect(mismatch).toThrow(/^s3:\/\/b\/m\.onnx: sha256 c+ does not match SHA256SUMS a+$/)
    expect(mismatch).toThrow(expect.objectContaining({ code: 'INTEGRITY_MISMATCH' }) as Error)
  })
})

import { describe, expect, it } from 'vitest'
import { parseModelUri } from './model-uri.js'

describe('parseModelUri', () => {
  it('tells an S3 object from an S3 bundle prefix by the trailing slash', () => {
    expect(parseModelUri('s3://models/resnet50/model.onnx')).toEqual({
      kind: 's3-object',
      bucket: 'models',
      key: 'resnet50/model.onnx',
    })
    expect(parseModelUri('s3://models/resnet50/')).toEqual({
      kind: 's3-prefix',
      bucket: 'models',
      prefix: 'resnet50/',
    })
    expect(parseModelUri('s3://models')).toEqual({
      kind: 's3-prefix',
      bucket: 'models',
      prefix: '',
    })
  })

  it('pins an S3 object to a version with ?versionId=, but not a prefix', () => {
    expect(parseModelUri('s3://models/r/model.onnx?versionId=3sL4kqtJ%2Bx')).toEqual({
      kind: 's3-object',
      bucket: 'models',
      key: 'r/model.onnx',
      versionId: '3sL4kqtJ+x',
    })
    expect(() => parseModelUri('s3://models/r/?versionId=abc')).toThrow(/not a bundle prefix/)
  })

  it('resolves local paths and file:// URLs against the working directory', () => {
    expect(parseModelUri('models/x.onnx', '/srv')).toEqual({
      kind: 'local',
      path: '/srv/models/x.onnx',
    })
    expect(parseModelUri('file:///opt/m/')).toEqual({ kind: 'local', path: '/opt/m' })
  })

  it('accepts https, and plain http only for localhost', () => {
    expect(parseModelUri('https://example.com/m.onnx')).toMatchObject({ kind: 'https' })
    expect(parseModelUri('http://127.0.0.1:9000/m.onnx')).toMatchObject({ kind: 'https' })
    expect(() => parseModelUri('http://example.com/m.onnx')).toThrow(/plain http/)
  })

  it('refuses bad bucket names, unknown schemes and empty values with INVALID_MODEL_URI', () => {
    for (const bad of ['s3://Bad_Bucket/x', 'gs://bucket/x.onnx', '  ']) {
      expect(() => parseModelUri(bad)).toThrow(
        expect.objectContaining({ code: 'INVALID_MODEL_URI' })
      )
    }
  })
})

/** Parses MODEL_URI values: s3://bucket/key.onnx, s3://bucket/prefix/, https://..., local paths. */
import path from 'node:path'
import { ModelLoaderError } from './errors.js'

/**
 * Where a model comes from, after parsing. A trailing `/` on S3 means a bundle prefix; an S3 object
 * may be pinned to one version with `?versionId=...`.
 */
export type ModelLocation =
  | {
      readonly kind: 's3-object'
      readonly bucket: string
      readonly key: string
      readonly versionId?: string
    }
  | { readonly kind: 's3-prefix'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'https'; readonly url: URL }
  | { readonly kind: 'local'; readonly path: string }

/** A location that is fetched into the cache. */
export type RemoteLocation = Exclude<ModelLocation, { kind: 'local' }>

/** A remote location's cache identity (`cacheKey`: the URI without version pin) and its name. */
export function sourceIdentity(loc: RemoteLocation): {
  kind: 's3' | 'https'
  cacheKey: string
  name: string
} {
  const lastSegment = (p: string, fallback: string): string =>
    (p.split('/').pop() ?? '').replace(/\.onnx$/, '') || fallback
  if (loc.kind === 'https') {
    const { url } = loc
    return {
      kind: 'https',
      cacheKey: url.toString(),
      name: lastSegment(url.pathname, url.hostname),
    }
  }
  const key = loc.kind === 's3-object' ? loc.key : loc.prefix
  const name = lastSegment(key.replace(/\/$/, ''), loc.bucket)
  return { kind: 's3', cacheKey: `s3://${loc.bucket}/${key}`, name }
}

const invalid = (uri: string, why: string): ModelLoaderError =>
  new ModelLoaderError('INVALID_MODEL_URI', `Invalid model URI "${uri}": ${why}`)

function parseS3(uri: string): ModelLocation {
  const pinned = /\?versionId=([^&=]+)$/.exec(uri)
  const rest = uri.slice('s3://'.length, pinned ? pinned.index : undefined)
  const [, bucket = '', key = ''] = /^([^/]*)\/?(.*)$/s.exec(rest) ?? []
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw invalid(uri, `"${bucket}" is not a valid S3 bucket name`)
  }
  if (key === '' || key.endsWith('/')) {
    if (pinned) throw invalid(uri, 'versionId pins one object, not a bundle prefix')
    return { kind: 's3-prefix', bucket, prefix: key }
  }
  if (!pinned?.[1]) return { kind: 's3-object', bucket, key }
  return { kind: 's3-object', bucket, key, versionId: decodeURIComponent(pinned[1]) }
}

/**
 * Parses a model URI. Relative local paths resolve against `cwd`.
 * @example parseModelUri('s3://models/resnet50/') // { kind: 's3-prefix', bucket: 'models', prefix: 'resnet50/' }
 */
export function parseModelUri(uri: string, cwd: string = process.cwd()): ModelLocation {
  const trimmed = uri.trim()
  if (trimmed === '') throw invalid(uri, 'it is empty')
  if (trimmed.startsWith('s3://')) return parseS3(trimmed)
  if (/^https?:\/\//i.test(trimmed)) {
    const url = new URL(trimmed)
    if (url.protocol !== 'https:' && !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) {
      throw invalid(uri, 'plain http is only allowed for localhost; use https')
    }
    return { kind: 'https', url }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) && !trimmed.startsWith('file://')) {
    throw invalid(uri, 'use s3://, https:// or a local path')
  }
  const local = trimmed.startsWith('file://') ? new URL(trimmed).pathname : trimmed
  return { kind: 'local', path: path.resolve(cwd, local) }
}

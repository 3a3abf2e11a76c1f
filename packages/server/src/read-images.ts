/** Request body -> image byte arrays: multipart `image` fields, or one raw image body. */
import type { Context } from 'hono'
import { ApiError } from './http-errors.js'

const FIELD = 'image'

async function fromMultipart(c: Context, maxImages: number): Promise<Uint8Array[]> {
  let form: Record<string, string | File | (string | File)[]>
  try {
    form = await c.req.parseBody({ all: true })
  } catch (err) {
    throw new ApiError('BAD_REQUEST', `Malformed multipart body (${(err as Error).message})`)
  }
  const raw = form[FIELD]
  const parts = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]
  if (parts.length === 0) {
    throw new ApiError('MISSING_IMAGE', `Send the image as a multipart file field named "${FIELD}"`)
  }
  if (parts.length > maxImages) {
    throw new ApiError(
      'TOO_MANY_IMAGES',
      `${parts.length} images sent; the limit is ${maxImages} per request`
    )
  }
  return Promise.all(
    parts.map(async (part, i) => {
      if (typeof part === 'string') {
        throw new ApiError('MISSING_IMAGE', `Field "${FIELD}" #${i + 1} is text, not a file upload`)
      }
      return new Uint8Array(await part.arrayBuffer())
    })
  )
}

/**
 * Reads the images of a predict request. Accepts `multipart/form-data` (one or more `image`
 * fields) or a raw body typed `image/*` or `application/octet-stream`. Declared types are not
 * trusted for decoding; they only choose how to read the body.
 */
export async function readImages(c: Context, maxImages: number): Promise<Uint8Array[]> {
  const type = (c.req.header('content-type') ?? '').toLowerCase()
  if (type.startsWith('multipart/form-data')) return fromMultipart(c, maxImages)
  if (type.startsWith('image/') || type.startsWith('application/octet-stream')) {
    const body = new Uint8Array(await c.req.arrayBuffer())
    if (body.length === 0) throw new ApiError('MISSING_IMAGE', 'The request body is empty')
    return [body]
  }
  const got = type === '' ? 'no Content-Type' : `Content-Type "${type}"`
  const msg = `Unsupported request (${got}); send multipart/form-data with an "${FIELD}" field, or a raw image body`
  throw new ApiError('UNSUPPORTED_MEDIA_TYPE', msg)
}

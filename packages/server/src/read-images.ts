/** Request body -> image byte arrays: multipart `image` fields, or one raw image body. */
import type { IncomingMessage } from 'node:http'
import type { Context } from 'hono'
import { ApiError } from './http-errors.js'
import { MultipartError, multipartBoundary, parseMultipart } from './multipart.js'
import type { FormPart } from './multipart.js'

const FIELD = 'image'

/** Most parts read from one body: the images allowed plus a few text fields. */
const partsFor = (maxImages: number): number => 2 * maxImages + 16

async function fromMultipart(c: Context, type: string, maxImages: number): Promise<Uint8Array[]> {
  const boundary = multipartBoundary(type)
  if (!boundary) throw new ApiError('BAD_REQUEST', 'Malformed multipart body (no boundary)')
  let parts: FormPart[]
  try {
    parts = parseMultipart(await readBody(c), boundary, partsFor(maxImages))
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err
    if (err.tooManyParts) {
      throw new ApiError('TOO_MANY_IMAGES', `Too many parts; the limit is ${maxImages} images`)
    }
    throw new ApiError('BAD_REQUEST', `Malformed multipart body (${err.message})`)
  }
  const images = parts.filter((part) => part.name === FIELD)
  if (images.length === 0) {
    throw new ApiError('MISSING_IMAGE', `Send the image as a multipart file field named "${FIELD}"`)
  }
  if (images.length > maxImages) {
    throw new ApiError(
      'TOO_MANY_IMAGES',
      `${images.length} images sent; the limit is ${maxImages} per request`
    )
  }
  return images.map((part, i) => {
    if (part.filename === undefined) {
      throw new ApiError('MISSING_IMAGE', `Field "${FIELD}" #${i + 1} is text, not a file upload`)
    }
    return part.data
  })
}

/** Node's request, when the app runs on `@hono/node-server` (absent in `app.request()` tests). */
const nodeRequest = (c: Context): IncomingMessage | undefined =>
  (c.env as { incoming?: IncomingMessage } | undefined)?.incoming

/**
 * Reads a body of a declared length straight into one buffer of that length. The Fetch-API path
 * gathers the chunks, concatenates them and then copies the result into an ArrayBuffer: two more
 * buffers the size of the upload, per request, for the event loop's garbage collector.
 */
function readDeclared(incoming: IncomingMessage, length: number): Promise<Uint8Array> {
  const body = Buffer.allocUnsafeSlow(length)
  let at = 0
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      // Node's parser never delivers more than the declared length
      at += chunk.copy(body, at)
    }
    const onEnd = (): void => {
      cleanup()
      if (at === length) resolve(body)
      else reject(new Error(`the body ended after ${at} of ${length} bytes`))
    }
    const onError = (err: Error): void => {
      cleanup()
      reject(err)
    }
    const onClose = (): void => {
      cleanup()
      reject(new Error(`the connection closed after ${at} of ${length} bytes`))
    }
    const cleanup = (): void => {
      incoming.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose)
    }
    incoming.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

/** The whole body; read straight from the socket (no web streams) when the server allows it. */
async function readBody(c: Context): Promise<Uint8Array> {
  try {
    const incoming = nodeRequest(c)
    const declared = c.req.header('content-length')
    const chunked = c.req.header('transfer-encoding') !== undefined // then bodyLimit counts bytes
    if (incoming && !incoming.readableDidRead && !chunked && /^\d+$/.test(declared ?? '')) {
      return await readDeclared(incoming, Number(declared))
    }
    return new Uint8Array(await c.req.arrayBuffer())
  } catch (err) {
    throw new ApiError(
      'BAD_REQUEST',
      `The request body could not be read (${(err as Error).message})`
    )
  }
}

/**
 * Reads the images of a predict request. Accepts `multipart/form-data` (one or more `image`
 * fields) or a raw body typed `image/*` or `application/octet-stream`. Declared types are not
 * trusted for decoding; they only choose how to read the body.
 */
export async function readImages(c: Context, maxImages: number): Promise<Uint8Array[]> {
  const declared = c.req.header('content-type') ?? ''
  const type = declared.toLowerCase()
  // the boundary is case-sensitive: read it from the header as sent
  if (type.startsWith('multipart/form-data')) return fromMultipart(c, declared, maxImages)
  if (type.startsWith('image/') || type.startsWith('application/octet-stream')) {
    const body = await readBody(c)
    if (body.length === 0) throw new ApiError('MISSING_IMAGE', 'The request body is empty')
    return [body]
  }
  const got = type === '' ? 'no Content-Type' : `Content-Type "${type}"`
  const msg = `Unsupported request (${got}); send multipart/form-data with an "${FIELD}" field, or a raw image body`
  throw new ApiError('UNSUPPORTED_MEDIA_TYPE', msg)
}

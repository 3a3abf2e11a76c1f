/**
 * A small multipart/form-data reader for a body already in memory: parts are views into the body
 * (no copies), so an upload costs one buffer however many images it carries.
 */

/** One part of a multipart body. */
export interface FormPart {
  readonly name: string
  /** Set for file fields (`filename=` in Content-Disposition), undefined for text fields. */
  readonly filename: string | undefined
  readonly data: Uint8Array
}

/** A body that is not well-formed multipart/form-data. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError'
  /** True when the body was refused for having more than `maxParts` parts. */
  readonly tooManyParts: boolean

  constructor(message: string, tooManyParts = false) {
    super(message)
    this.tooManyParts = tooManyParts
  }
}

/** The boundary from a `multipart/form-data; boundary=...` Content-Type, or undefined. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;,]{1,70}))/i.exec(contentType)
  return match?.[1] ?? match?.[2]
}

const CRLF = Buffer.from('\r\n')
const HEADER_END = Buffer.from('\r\n\r\n')

function dispositionParam(header: string, key: string): string | undefined {
  const match = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, 'i').exec(
    header
  )
  if (!match) return undefined
  return match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]
}

/**
 * Splits `body` into its parts. Throws MultipartError when the boundary is never found, a part has
 * no Content-Disposition name, or the closing boundary is missing; at most `maxParts` parts.
 */
export function parseMultipart(body: Uint8Array, boundary: string, maxParts: number): FormPart[] {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const delimiter = Buffer.from(`--${boundary}`)
  let at = buf.indexOf(delimiter)
  if (at < 0) throw new MultipartError('the boundary never appears in the body')
  const parts: FormPart[] = []
  for (;;) {
    at += delimiter.length
    if (buf[at] === 0x2d && buf[at + 1] === 0x2d) return parts // "--": the closing delimiter
    if (buf.compare(CRLF, 0, 2, at, at + 2) !== 0) {
      throw new MultipartError('a boundary is not followed by a line break')
    }
    const headersEnd = buf.indexOf(HEADER_END, at + 2)
    if (headersEnd < 0) throw new MultipartError('a part has no end of headers')
    const headers = buf.toString('latin1', at + 2, headersEnd)
    const next = buf.indexOf(Buffer.from(`\r\n--${boundary}`), headersEnd + 4)
    if (next < 0) throw new MultipartError('the closing boundary is missing')
    const disposition = /^content-disposition:(.*)$/im.exec(headers)?.[1] ?? ''
    const name = dispositionParam(disposition, 'name')
    if (name === undefined) throw new MultipartError('a part has no Content-Disposition name')
    if (parts.length === maxParts) throw new MultipartError(`more than ${maxParts} parts`, true)
    parts.push({
      name,
      filename: dispositionParam(disposition, 'filename'),
      data: body.subarray(headersEnd + 4, next),
    })
    at = next + 2
  }
}

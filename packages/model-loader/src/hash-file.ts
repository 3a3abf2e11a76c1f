/** Streams a file through sha256 with bounded memory, once per version of the file. */
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'

/** Digests by path, with the size and mtime they were computed at. */
const known = new Map<string, { key: string; sha256: string }>()

/**
 * The sha256 of a file's content, hex. Remembered while its size and mtime stay the same: a poll
 * of an unchanged local model, or of a cached copy while offline, does not read it again.
 */
export async function sha256File(file: string): Promise<string> {
  const { size, mtimeMs } = await stat(file)
  const key = `${size}:${mtimeMs}`
  const hit = known.get(file)
  if (hit?.key === key) return hit.sha256
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer)
  }
  const sha256 = hash.digest('hex')
  known.set(file, { key, sha256 })
  return sha256
}

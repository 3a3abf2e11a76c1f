/** Runs scripts/torchvision-reference.py (Pillow + numpy, Debian's python3) on jobs, for tests. */
import { execFile, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(
  new URL('../../../../scripts/torchvision-reference.py', import.meta.url)
)
/** Debian's interpreter, where python3-pil and python3-numpy are installed (`pnpm test` does). */
export const PYTHON = '/usr/bin/python3'

/** Whether PYTHON has Pillow and numpy. */
export const pillowAvailable: boolean =
  spawnSync(PYTHON, ['-c', 'import PIL, numpy'], { stdio: 'ignore' }).status === 0

/** One image through torchvision's transform with the given config.json `input`. */
export interface PillowJob {
  readonly image: string
  readonly config?: object
}

/** The uint8 HWC crop and the model-input tensor bytes Pillow + numpy produced. */
export interface PillowResult {
  readonly rgb: Uint8Array
  readonly tensor: Buffer
}

/** Runs all jobs in one Python process; rejects with the interpreter's stderr on failure. */
export async function pillowReference(jobs: readonly PillowJob[]): Promise<PillowResult[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pillow-reference-'))
  try {
    const withOut = jobs.map((job, i) => ({ ...job, out: path.join(dir, String(i)) }))
    await new Promise<void>((resolve, reject) => {
      const child = execFile(PYTHON, [SCRIPT, 'tensors'], (err, _stdout, stderr) => {
        if (err)
          reject(
            new Error(`${PYTHON} ${SCRIPT} failed (needs python3-pil, python3-numpy):\n${stderr}`, {
              cause: err,
            })
          )
        else resolve()
      })
      child.stdin?.end(JSON.stringify(withOut))
    })
    return await Promise.all(
      withOut.map(async ({ out }) => ({
        rgb: await readFile(`${out}.rgb`),
        tensor: await readFile(`${out}.tensor`),
      }))
    )
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Mean and max absolute difference of two equally long arrays. */
export function absDiff(a: ArrayLike<number>, b: ArrayLike<number>): { mean: number; max: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`)
  let sum = 0
  let max = 0
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!)
    sum += d
    if (d > max) max = d
  }
  return { mean: sum / a.length, max }
}

/**
 * A real tabular bundle for tests: scripts/breast-cancer-trees.py trains a random forest on
 * scikit-learn's bundled breast-cancer data and exports it as skl2onnx does (TreeEnsembleClassifier
 * + ZipMap). Written once per process into a temporary directory, never committed.
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('../../../scripts/breast-cancer-trees.py', import.meta.url))
const PYTHON = '/usr/bin/python3'

/** Where Debian's packages (python3-sklearn, python3-onnx, python3-numpy) put the modules. */
const DIST_PACKAGES = '/usr/lib/python3/dist-packages'

/**
 * Whether Debian's python3 has scikit-learn, onnx and numpy (`pnpm test` installs them as root).
 * Decided from the files, not by starting python: `pnpm test:avx2` imports this under QEMU user
 * mode, where a synchronous spawn at import crashes the emulator (SIGSEGV, measured).
 */
export const treeBundleAvailable: boolean =
  existsSync(PYTHON) &&
  ['sklearn', 'onnx', 'numpy'].every((m) => existsSync(path.join(DIST_PACKAGES, m, '__init__.py')))

/** Held-out rows and the trainer's `predict_proba` of each. */
export interface TreeExpectations {
  readonly rows: number[][]
  readonly probabilities: number[][]
}

/** The bundle directory and what the trainer predicted. */
export interface TreeBundle {
  readonly dir: string
  readonly expected: TreeExpectations
  readonly featureNames: readonly string[]
}

let made: Promise<TreeBundle> | undefined

/** Generates the bundle (once per process); rejects with the interpreter's stderr. */
export function breastCancerTreeBundle(): Promise<TreeBundle> {
  made ??= new Promise((resolve, reject) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'breast-cancer-trees-'))
    execFile(PYTHON, [SCRIPT, dir], (err, _stdout, stderr) => {
      if (err) {
        reject(new Error(`${SCRIPT} failed (needs python3-sklearn, python3-onnx):\n${stderr}`))
        return
      }
      const read = (name: string): unknown =>
        JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as unknown
      const features = read('features.json') as { features: { name: string }[] }
      resolve({
        dir,
        expected: read('expected.json') as TreeExpectations,
        featureNames: features.features.map((f) => f.name),
      })
    })
  })
  return made
}

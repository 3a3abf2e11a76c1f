// What some test suites need beyond Node and npm, and the Debian packages that bring it.
// `pnpm test` and `pnpm bench` call ensureSystemNeeds() first: on Debian/Ubuntu as root it installs what is missing
// (one line says so); anywhere else it says which suites will be skipped and what to install.
import { spawnSync } from 'node:child_process'
import { existsSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const works = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0

/** Each need: who needs it, how to tell it is there, and the Debian packages that bring it. */
export const SYSTEM_NEEDS = [
  {
    suite: 'the demo page in a real browser (apps/resnet)',
    present: () => existsSync('/usr/bin/chromium'),
    packages: ['chromium'],
  },
  {
    suite: "torchvision's recipe in Pillow + numpy (packages/preprocess)",
    present: () => works('/usr/bin/python3', ['-c', 'import PIL, numpy']),
    packages: ['python3-pil', 'python3-numpy'],
  },
  {
    suite: 'the tree model trained on scikit-learn data, served and checked (apps/catboost)',
    present: () => works('/usr/bin/python3', ['-c', 'import sklearn, onnx, numpy']),
    packages: ['python3-sklearn', 'python3-onnx', 'python3-numpy'],
  },
  {
    // only where podman can run the image at all (not inside a container)
    suite: 'the rolling-restart rehearsal behind a load balancer (tests/container)',
    present: () => !works('podman', ['--version']) || works('haproxy', ['-v']),
    packages: ['haproxy'],
  },
]

const canApt = () =>
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  existsSync('/etc/debian_version') &&
  works('apt-get', ['--version'])

/** Installs the missing Debian packages where it can; otherwise says what will be skipped. */
export function ensureSystemNeeds(command = 'pnpm test') {
  const missing = SYSTEM_NEEDS.filter((need) => !need.present())
  if (missing.length === 0) return
  const packages = missing.flatMap((need) => need.packages)
  if (!canApt()) {
    for (const need of missing)
      console.log(
        `${command}: skipped: ${need.suite}; to run it, install ${need.packages.join(' ')} ` +
          `(Debian/Ubuntu: sudo apt-get install ${need.packages.join(' ')})`
      )
    return
  }
  console.log(
    `${command}: installing ${packages.join(' ')} with apt-get (needed by: ${missing.map((n) => n.suite).join('; ')})`
  )
  const log = path.join(os.tmpdir(), 'system-needs-apt.log')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const apt = (...args) => {
    const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { env })
    writeFileSync(log, `${r.stdout}${r.stderr}`, { flag: 'a' })
    return r.status === 0
  }
  if (!(apt('update', '-qq') && apt('install', '-y', '-qq', ...packages)))
    console.log(
      `${command}: apt-get failed (see ${log}); the suites that need it will fail or skip`
    )
}

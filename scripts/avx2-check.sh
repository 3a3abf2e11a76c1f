#!/usr/bin/env bash
# `pnpm test:avx2`: the test files whose assertions rest on the int8 model's scores, run on an
# emulated CPU without AVX-512 (QEMU user mode, `-cpu max`: AVX2, no AVX-512), where onnxruntime
# takes its AVX2 u8s8 int8 kernels, as on Zen 3 or older Xeons, instead of this machine's. The
# scores differ there (README, "Preprocessing accuracy"); the tests must not. Vitest runs the files
# in worker threads, so that inference is emulated too (a child process would run natively).
# Needs qemu-user (installed with apt-get when missing, as root on Debian). About 10x slower.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v qemu-x86_64 >/dev/null; then
  echo "pnpm test:avx2: installing qemu-user with apt-get"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq qemu-user >/dev/null
fi
pnpm exec turbo run build --filter=@resnet/server... --output-logs=errors-only
cd packages/server
node=$(pnpm exec node -p process.execPath)
exec qemu-x86_64 -cpu max "$node" node_modules/vitest/vitest.mjs run --pool=threads \
  --testTimeout=600000 --hookTimeout=600000 src/reference.test.ts src/batcher.test.ts src/v2.test.ts \
  src/fast-decode-guard.test.ts

// CPU pinning for side-by-side benches on a small machine: the measured side (an ECS task, or the
// in-process engine it is compared with) gets its own cores, and what stands in for AWS (s3rver,
// a shaping proxy) gets the others, as on AWS, where S3 costs a task no CPU. util-linux's taskset
// sets the affinity; without it (or with one core) nothing is pinned and the report says so.
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

/** Which CPUs each side runs on; undefined sides are not pinned. */
export interface CpuSplit {
  /** The measured side: a task's vCPUs. */
  readonly task: string
  /** The stand-ins for AWS (S3, the network). */
  readonly aws: string
  /** How many CPUs the task side has. */
  readonly taskCpus: number
  /** Every CPU (to undo a pinning). */
  readonly all: string
}

/** Task on the last CPU, the rest for the stand-ins; undefined where it cannot be done. */
export function cpuSplit(): CpuSplit | undefined {
  const n = availableParallelism()
  if (n < 2 || spawnSync('taskset', ['--version']).status !== 0) return undefined
  return { task: String(n - 1), aws: n === 2 ? '0' : `0-${n - 2}`, taskCpus: 1, all: `0-${n - 1}` }
}

/** Moves every thread of this process (and those it starts later) onto `cpus`. */
export function pinSelf(cpus: string): void {
  const out = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(process.pid)])
  if (out.status !== 0) throw new Error(`taskset failed: ${String(out.stderr)}`)
}

/** The command line that runs `argv` on `cpus` (or unchanged when `cpus` is undefined). */
export const onCpus = (cpus: string | undefined, argv: readonly string[]): string[] =>
  cpus === undefined ? [...argv] : ['taskset', '-c', cpus, ...argv]

/** podman from tests: the image built by CI (../shared/tools/container-check.sh) and its storage. */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)
const WORK = process.env.CTR_WORK ?? '/var/tmp/ci-container'

/** The image under test; CI builds it with `IMAGE=localhost/resnet:ci container-check.sh`. */
export const IMAGE: string = process.env.RESNET_IMAGE ?? 'localhost/resnet:ci'

/** The tabular app's image: `IMAGE=localhost/catboost:ci DOCKERFILE=apps/catboost/Dockerfile container-check.sh`. */
export const CATBOOST_IMAGE: string = process.env.CATBOOST_IMAGE ?? 'localhost/catboost:ci'

/** container-check.sh keeps podman's config and storage in $CTR_WORK; use the same. */
function podmanEnv(): NodeJS.ProcessEnv {
  const conf = `${WORK}/conf/containers.conf`
  const storage = `${WORK}/conf/storage.conf`
  return existsSync(conf)
    ? { ...process.env, CONTAINERS_CONF: conf, CONTAINERS_STORAGE_CONF: storage }
    : process.env
}

/** Runs podman and returns its trimmed stdout; rejects with stderr on failure. */
export async function podman(args: readonly string[]): Promise<string> {
  const { stdout } = await run('podman', args, { env: podmanEnv(), maxBuffer: 16 << 20 })
  return stdout.trim()
}

/** True when podman runs here and the image exists (CI); tests skip with a reason otherwise. */
export async function imageAvailable(image: string = IMAGE): Promise<boolean> {
  try {
    await podman(['image', 'exists', image])
    return true
  } catch {
    return false
  }
}

/** How to start one container of the image. */
export interface ContainerSpec {
  readonly name: string
  readonly env: Record<string, string>
  /** `host:container[:ro]` bind mounts. */
  readonly volumes?: readonly string[]
  /** @default IMAGE */
  readonly image?: string
}

/** The image's writable paths (model cache, TMPDIR): task volumes on ECS, volumes here. */
export const WRITABLE_DIRS: readonly string[] = ['/var/cache/models', '/var/tmp/app']

/**
 * Starts a container on the host network (it reaches s3rver on 127.0.0.1 and listens on
 * env.PORT) with a read-only root filesystem and the model cache and TMPDIR on volumes of their
 * own, as the ECS task definition does (a volume keeps the image's ownership of the directory; a
 * tmpfs would be root's).
 */
export async function startContainer(spec: ContainerSpec): Promise<string> {
  const args = [
    'run',
    '-d',
    '--name',
    spec.name,
    '--network=host',
    '--read-only',
    ...WRITABLE_DIRS.flatMap((dir) => ['-v', dir]),
  ]
  for (const [k, v] of Object.entries(spec.env)) args.push('-e', `${k}=${v}`)
  for (const volume of spec.volumes ?? []) args.push('-v', volume)
  return podman([...args, spec.image ?? IMAGE])
}

/** Sends SIGTERM (then SIGKILL after `timeoutS`) and returns the exit code and how long it took. */
export async function stopContainer(
  name: string,
  timeoutS = 25
): Promise<{ exitCode: number; seconds: number }> {
  const started = performance.now()
  await podman(['stop', '-t', String(timeoutS), name]).catch(() => '')
  const seconds = (performance.now() - started) / 1000
  const exitCode = Number(await podman(['inspect', '-f', '{{.State.ExitCode}}', name]))
  return { exitCode, seconds }
}

/** Removes containers by name, ignoring ones that do not exist. */
export async function removeContainers(...names: string[]): Promise<void> {
  await podman(['rm', '-f', '-v', '-t', '0', ...names]).catch(() => '')
}

/** The container's log output. */
export function containerLogs(name: string): Promise<string> {
  return podman(['logs', name]).catch((err: unknown) => String(err))
}

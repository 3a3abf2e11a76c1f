/** Runs the built server (dist/main.js) as a real child process on a free port, for tests. */
import { fileURLToPath } from 'node:url'
import { startNodeApp } from '@resnet/test-support'
import type { AppProcess } from '@resnet/test-support'
import { NODE_FLAGS } from '../launch.js'

export type { AppProcess } from '@resnet/test-support'

const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url))

/** Starts `node dist/main.js` as the container does (src/launch.ts), with `env` added. */
export function startApp(env: Record<string, string>): Promise<AppProcess> {
  return startNodeApp(MAIN, env, NODE_FLAGS)
}

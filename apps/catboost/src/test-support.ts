/** Runs this app's built server (dist/main.js) as a child process, for tests. */
import { fileURLToPath } from 'node:url'
import { startNodeApp } from '@resnet/test-support'
import type { AppProcess } from '@resnet/test-support'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

/** Starts the tabular server with `env` added (INFERENCE_THREADS 1, LOG_LEVEL info). */
export async function startTabularApp(env: Record<string, string>): Promise<AppProcess> {
  const app = await startNodeApp(MAIN, { LOG_LEVEL: 'info', INFERENCE_THREADS: '1', ...env })
  return app
}

/** Runs an app's built server (its dist/main.js) as a real child process on a free port, for tests. */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'

/** A running server process. */
export interface AppProcess {
  readonly url: string
  readonly child: ChildProcess
  /** Everything it printed so far (stdout and stderr). */
  output(): string
  /** Parsed JSON log lines printed so far (whole lines only). */
  logs(): Record<string, unknown>[]
  /**
   * Resolves with the first log line that `match` accepts, waiting for it (the app logs through an
   * asynchronous destination, so a line may land after what it describes).
   */
  waitForLog(
    match: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number
  ): Promise<Record<string, unknown>>
  /** Polls /readyz until 200; rejects if the process exits or the time runs out. */
  waitReady(timeoutMs?: number): Promise<void>
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>
  /** Resolves with the exit code once the process ends by itself. */
  exited(): Promise<number | null>
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * Starts `node <flags> <main>` as the container does, with `env` added to a clean environment
 * (no inherited AWS_* or MODEL_*).
 */
export async function startNodeApp(
  main: string,
  env: Record<string, string>,
  flags: readonly string[] = []
): Promise<AppProcess> {
  const port = await freePort()
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_') && !k.startsWith('MODEL_'))
  )
  const child = spawn(process.execPath, [...flags, main], {
    env: { ...base, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const exit = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      resolve(code)
    })
  )
  const url = `http://127.0.0.1:${port}`
  const logs = (): Record<string, unknown>[] =>
    output
      .split('\n')
      .slice(0, -1) // the last piece is an unfinished line (or empty)
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  return {
    url,
    child,
    output: () => output,
    logs,
    async waitForLog(match, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const line = logs().find(match)
        if (line) return line
        if (Date.now() > deadline)
          throw new Error(`no such log line after ${timeoutMs} ms:\n${output}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}:\n${output}`)
        const status = await fetch(`${url}/readyz`).then(
          (r) => r.status,
          () => 0
        )
        if (status === 200) return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`server not ready after ${timeoutMs} ms:\n${output}`)
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal)
      return exit
    },
    exited: () => exit,
  }
}

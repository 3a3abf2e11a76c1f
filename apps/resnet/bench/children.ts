// Child server processes: start, wait for readiness, stop; always killed, also on errors and exit.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { freePort, sleep } from './util.ts'

const live = new Set<ChildProcess>()

/** Kills every child still running (SIGKILL); safe to call from an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  live.clear()
}

process.once('exit', killAllChildren)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllChildren()
    process.exit(130)
  })
}

export interface ChildServerOptions {
  readonly label: string
  /** Script run with this process's Node binary. */
  readonly script: string
  /** Node flags before the script. */
  readonly nodeFlags?: readonly string[]
  readonly env: Record<string, string | undefined>
  readonly readyTimeoutMs?: number
}

/** A server running as a child process on 127.0.0.1. */
export class ChildServer {
  readonly label: string
  readonly url: string
  readonly #child: ChildProcess
  #log = ''
  #exited: Promise<void>

  private constructor(label: string, url: string, child: ChildProcess) {
    this.label = label
    this.url = url
    this.#child = child
    const keep = (chunk: Buffer): void => {
      this.#log = (this.#log + chunk.toString('utf8')).slice(-8000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()))
  }

  get pid(): number {
    return this.#child.pid ?? -1
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** The last few KB of the child's stdout and stderr. */
  get log(): string {
    return this.#log
  }

  /** Starts the server and waits until `GET /readyz` answers 200. */
  static async start(options: ChildServerOptions): Promise<ChildServer> {
    const port = await freePort()
    const env: Record<string, string> = {}
    for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
      if (v !== undefined) env[k] = v
    }
    env.HOST = '127.0.0.1'
    env.PORT = String(port)
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), options.script], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    live.add(child)
    child.once('exit', () => live.delete(child))
    const server = new ChildServer(options.label, `http://127.0.0.1:${port}`, child)
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000)
    while (Date.now() < deadline) {
      if (!server.running) {
        throw new Error(`${options.label} exited before it was ready:\n${server.log}`)
      }
      try {
        const res = await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(1000) })
        await res.arrayBuffer()
        if (res.status === 200) return server
      } catch {
        // not listening yet
      }
      await sleep(20) // fine enough for the start-up times the bench reports
    }
    await server.stop()
    throw new Error(`${options.label} was not ready within the timeout:\n${server.log}`)
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.running) return
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs)
    await this.#exited
    clearTimeout(timer)
  }
}

/**
 * Runs a bench's `main` bounded: after `minutes` a watchdog kills every child and exits 1; on
 * return the exit code is `main`'s, and a stray keep-alive socket cannot keep the process alive.
 */
export function runBounded(name: string, minutes: number, main: () => Promise<number>): void {
  const watchdog = setTimeout(
    () => {
      process.stderr.write(`${name}: watchdog fired after ${minutes} minutes; killing children\n`)
      killAllChildren()
      process.exit(1)
    },
    minutes * 60 * 1000
  )
  watchdog.unref()
  main().then(
    (code) => {
      process.exitCode = code
      setTimeout(() => process.exit(code), 2000).unref()
    },
    (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err)
      process.stderr.write(`${name} failed: ${text}\n`)
      killAllChildren()
      process.exitCode = 1
    }
  )
}

// The part of autocannon 9's JS API this benchmark uses (the package ships no types).
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events'

  export interface Histogram {
    readonly average: number
    readonly mean: number
    readonly p50: number
    readonly p99: number
    readonly max: number
    readonly total: number
    readonly sent?: number
  }

  export interface Request {
    readonly method?: string
    readonly path?: string
    readonly headers?: Record<string, string>
    readonly body?: string | Buffer
    onResponse?(status: number, body: string, context: Record<string, unknown>): void
  }

  export interface Options {
    readonly url: string
    readonly connections?: number
    readonly duration?: number
    readonly amount?: number
    readonly timeout?: number
    readonly method?: string
    readonly headers?: Record<string, string>
    readonly body?: string | Buffer
    readonly overallRate?: number
    readonly requests?: readonly Request[]
    readonly excludeErrorStats?: boolean
  }

  export interface Result {
    readonly requests: Histogram
    readonly latency: Histogram
    readonly duration: number
    readonly errors: number
    readonly timeouts: number
    readonly non2xx: number
    readonly statusCodeStats: Record<string, { count: number }>
  }

  export interface Instance extends EventEmitter, PromiseLike<Result> {
    stop(): void
    on(
      event: 'response',
      listener: (client: unknown, status: number, bytes: number, ms: number) => void
    ): this
    on(event: 'reqError', listener: (err: Error) => void): this
    on(event: string, listener: (...args: never[]) => void): this
  }

  export function autocannon(options: Options): Instance
  export default autocannon
}

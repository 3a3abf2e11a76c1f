/** A steady, bounded closed-loop load against one URL that records every response. */

/** What a load run saw. */
export interface LoadReport {
  readonly sent: number
  readonly non2xx: number
  readonly statuses: Record<string, number>
  readonly p50Ms: number
  readonly p99Ms: number
  /** Model versions seen in 200 answers, in order of first appearance. */
  readonly versions: string[]
}

/** A running load; `stop()` ends it and returns the report. */
export interface SteadyLoad {
  stop(): Promise<LoadReport>
  /** Responses so far. */
  readonly count: () => number
}

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

/** One call's outcome: its status ('error' for a refused or reset connection) and model version. */
export interface CallOutcome {
  readonly status: string
  readonly version?: string | undefined
}

/** Keeps `concurrency` image requests to `url` in flight until stopped (or `maxRequests` were sent). */
export function steadyLoad(
  url: string,
  image: Uint8Array,
  concurrency: number,
  maxRequests = 100_000
): SteadyLoad {
  return steadyCalls(
    async () => {
      const form = new FormData()
      form.append('image', new Blob([image]), 'photo.jpg')
      const res = await fetch(url, {
        method: 'POST',
        body: form,
        signal: AbortSignal.timeout(30_000),
      })
      const body = (await res.json()) as { model?: { version?: string } }
      return { status: String(res.status), version: body.model?.version }
    },
    concurrency,
    maxRequests
  )
}

/** Keeps `concurrency` calls in flight until stopped (or `maxRequests` were made). */
export function steadyCalls(
  call: () => Promise<CallOutcome>,
  concurrency: number,
  maxRequests = 100_000
): SteadyLoad {
  let stopped = false
  const latencies: number[] = []
  const statuses: Record<string, number> = {}
  const versions: string[] = []
  const worker = async (): Promise<void> => {
    while (!stopped && latencies.length < maxRequests) {
      const started = performance.now()
      let status = 'error'
      try {
        const outcome = await call()
        status = outcome.status
        if (outcome.version && !versions.includes(outcome.version)) versions.push(outcome.version)
      } catch {
        status = 'error' // refused or reset connection: counts as a failure
      }
      latencies.push(performance.now() - started)
      statuses[status] = (statuses[status] ?? 0) + 1
    }
  }
  const workers = Array.from({ length: concurrency }, worker)
  return {
    count: () => latencies.length,
    async stop() {
      stopped = true
      await Promise.all(workers)
      const sorted = [...latencies].sort((a, b) => a - b)
      return {
        sent: latencies.length,
        non2xx: latencies.length - (statuses['200'] ?? 0),
        statuses,
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        versions,
      }
    },
  }
}

/** Download progress for logs: bytes, percent and MB/s, at most once a second. */

/** The logger the loader writes to; pino's `Logger` fits. */
export interface LoaderLogger {
  info(obj: Record<string, unknown>, msg: string): void
  warn(obj: Record<string, unknown>, msg: string): void
}

/** Counts downloaded bytes and logs progress no more than once a second. */
export interface Progress {
  add(bytes: number): void
  /** Logs the final line (always). */
  done(): void
}

const MB = 1024 * 1024

/** A progress reporter for one file of `totalBytes` (undefined: unknown). */
export function createProgress(
  logger: LoaderLogger | undefined,
  fields: Record<string, unknown>,
  totalBytes: number | undefined,
  now: () => number = () => performance.now()
): Progress {
  const started = now()
  let bytes = 0
  let lastLog = started
  const line = (t: number): Record<string, unknown> => ({
    ...fields,
    bytes,
    totalBytes,
    percent: totalBytes ? Math.round((1000 * bytes) / totalBytes) / 10 : undefined,
    mbPerS: Math.round((10 * bytes) / MB / Math.max((t - started) / 1000, 1e-3)) / 10,
  })
  return {
    add(n) {
      bytes += n
      if (!logger) return
      const t = now()
      if (t - lastLog < 1000) return
      lastLog = t
      logger.info(line(t), 'model download progress')
    },
    done() {
      logger?.info({ ...line(now()), ms: Math.round(now() - started) }, 'model file downloaded')
    },
  }
}

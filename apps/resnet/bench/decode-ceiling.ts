// In-process decode throughput: sharp's decode alone (the ceiling) against our whole pipeline
// (decodeImage: decode, orient, resize, crop), one image at a time (per core: libvips runs one
// image on one thread) and with enough images in flight to fill libuv's pool (saturation).
import { availableParallelism } from 'node:os'

/** Images/s of one variant in one mode, one round. */
export interface RateRun {
  readonly imagesPerS: number
  /** CPU of this process (every thread) per image: what other jobs on the machine disturb least. */
  readonly cpuMsPerImage: number
  readonly images: number
  readonly seconds: number
}

/** Runs `once` back to back on `lanes` lanes for `seconds`; images/s. */
export async function rate(
  once: () => Promise<unknown>,
  lanes: number,
  seconds: number
): Promise<RateRun> {
  await Promise.all(Array.from({ length: lanes }, once)) // warm-up
  let images = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const end = t0 + seconds * 1000
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        await once()
        images++
      }
    })
  )
  const elapsed = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const cpuMsPerImage = (cpu.user + cpu.system) / 1000 / images
  return { imagesPerS: images / elapsed, cpuMsPerImage, images, seconds: elapsed }
}

/** Lanes at saturation: two images per core in flight (libuv's pool has 4 threads). */
export const SATURATION_LANES = 2 * availableParallelism()

/** A named way of decoding one input. */
export interface Variant {
  readonly key: string
  readonly once: () => Promise<unknown>
}

/** Rounds of every variant per core and at saturation, alternating: rounds[variant][mode][]. */
export async function alternatingRounds(
  variants: readonly Variant[],
  rounds: number,
  seconds: number
): Promise<Record<string, { perCore: RateRun[]; saturation: RateRun[] }>> {
  const out: Record<string, { perCore: RateRun[]; saturation: RateRun[] }> = {}
  for (const v of variants) out[v.key] = { perCore: [], saturation: [] }
  for (let i = 0; i < rounds; i++) {
    for (const v of variants) out[v.key]!.perCore.push(await rate(v.once, 1, seconds))
    for (const v of variants)
      out[v.key]!.saturation.push(await rate(v.once, SATURATION_LANES, seconds))
  }
  return out
}

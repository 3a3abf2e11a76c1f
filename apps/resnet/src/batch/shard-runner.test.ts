import { describe, expect, it } from 'vitest'
import { orderedMap } from './shard-runner.js'

describe('orderedMap', () => {
  it('yields in input order with at most `width` in flight, whatever order they finish in', async () => {
    let inFlight = 0
    let most = 0
    const delays = [30, 5, 20, 1, 10, 2, 25, 3]
    const seen: number[] = []
    for await (const v of orderedMap(delays, 3, async (ms) => {
      most = Math.max(most, ++inFlight)
      await new Promise((r) => setTimeout(r, ms))
      inFlight--
      return ms
    })) {
      seen.push(v)
    }
    expect(seen).toEqual(delays)
    expect(most).toBe(3)
  })

  it('throws the first failure in order, with no unhandled rejection from later ones', async () => {
    const seen: number[] = []
    const run = async () => {
      for await (const v of orderedMap([1, 2, 3], 3, (n) =>
        n === 1 ? Promise.resolve(n) : Promise.reject(new Error(`item ${n}`))
      )) {
        seen.push(v)
      }
    }
    await expect(run()).rejects.toThrow('item 2')
    expect(seen).toEqual([1])
  })
})

import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { RunQueue } from './run-queue.js'

describe('RunQueue', () => {
  it('runs one job at a time, in order', async () => {
    const queue = new RunQueue(10)
    let running = 0
    let peak = 0
    const order: number[] = []
    const job = (i: number) => async () => {
      running++
      peak = Math.max(peak, running)
      await sleep(5)
      order.push(i)
      running--
      return i
    }
    const results = await Promise.all([1, 2, 3, 4].map((i) => queue.run(job(i))))
    expect(results).toEqual([1, 2, 3, 4])
    expect(order).toEqual([1, 2, 3, 4])
    expect(peak).toBe(1)
  })

  it('refuses at once with OVERLOADED and a Retry-After when full', async () => {
    const queue = new RunQueue(2)
    const slow = () => sleep(20)
    const first = queue.run(slow)
    const second = queue.run(slow)
    expect(() => queue.run(slow)).toThrow(
      expect.objectContaining({ code: 'OVERLOADED', retryAfter: 1 })
    )
    await Promise.all([first, second])
    expect(queue.size).toBe(0)
    await expect(queue.run(() => Promise.resolve('ok'))).resolves.toBe('ok')
  })

  it('keeps going after a failed job', async () => {
    const queue = new RunQueue(5)
    const failed = queue.run(() => Promise.reject(new Error('boom')))
    const next = queue.run(() => Promise.resolve(42))
    await expect(failed).rejects.toThrow('boom')
    await expect(next).resolves.toBe(42)
  })
})

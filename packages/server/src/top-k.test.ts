import { describe, expect, it } from 'vitest'
import { softmax, topK } from './top-k.js'

describe('softmax', () => {
  it('sums to 1 and keeps the order of the logits', () => {
    const p = softmax([1, 3, 2])
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12)
    expect(p[1]).toBeGreaterThan(p[2]!)
    expect(p[2]).toBeGreaterThan(p[0]!)
    expect(p[1]).toBeCloseTo(Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3)), 12)
  })

  it('stays finite for huge logits', () => {
    const p = softmax([1000, 999, -1000])
    expect(Array.from(p).every(Number.isFinite)).toBe(true)
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 12)
  })
})

describe('topK', () => {
  it('returns the k best, descending, with labels and a fallback name', () => {
    const scores = [0.1, 0.5, 0.05, 0.3, 0.05]
    expect(topK(scores, 3, ['a', 'b', 'c'])).toEqual([
      { label: 'b', index: 1, score: 0.5 },
      { label: 'class_3', index: 3, score: 0.3 },
      { label: 'a', index: 0, score: 0.1 },
    ])
  })

  it('agrees with a full sort on random scores, ties by lower index', () => {
    const scores = Array.from({ length: 1000 }, (_, i) => Math.round(Math.sin(i * 7.3) * 50) / 50)
    const sorted = scores
      .map((score, index) => ({ score, index }))
      .sort((a, b) => b.score - a.score || a.index - b.index)
      .slice(0, 10)
      .map((p) => p.index)
    expect(topK(scores, 10, []).map((p) => p.index)).toEqual(sorted)
  })
})

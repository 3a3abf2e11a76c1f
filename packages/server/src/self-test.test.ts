import { describe, expect, it } from 'vitest'
import { SELF_TEST_SCORE_TOLERANCE, selfTestDifferences } from './self-test.js'

const p = (index: number, score: number) => ({ index, label: `c${index}`, score })
const images = [{ name: 'a.jpg', bytes: new Uint8Array() }]

describe('selfTestDifferences', () => {
  const expected = { images: { 'a.jpg': { top: [p(1, 0.8), p(2, 0.15)] } } }

  it('passes scores within the tolerance', () => {
    expect(SELF_TEST_SCORE_TOLERANCE).toBe(0.05)
    expect(selfTestDifferences(expected, images, [[p(1, 0.76), p(2, 0.19)]])).toEqual([])
  })

  it('reports a score that moved too far and a changed clear top-1', () => {
    const got = [[p(2, 0.6), p(1, 0.3)]]
    expect(selfTestDifferences(expected, images, got)).toEqual([
      'a.jpg: top-1 is c2 (2), expected c1 (1)',
      'a.jpg: c1 (1) scored 0.3000, expected 0.8000 ± 0.05',
      'a.jpg: c2 (2) scored 0.6000, expected 0.1500 ± 0.05',
    ])
  })

  it('judges a close race (margin within twice the tolerance) by its scores only', () => {
    const close = { images: { 'a.jpg': { top: [p(1, 0.46), p(2, 0.4)] } } }
    expect(selfTestDifferences(close, images, [[p(2, 0.44), p(1, 0.43)]])).toEqual([])
  })
})

import { describe, expect, it } from 'vitest'
import { createProgress } from './progress.js'
import { memoryLogger } from './test-support/helpers.js'

describe('createProgress', () => {
  it('logs bytes, percent and MB/s at most once a second, and a final line', () => {
    const logger = memoryLogger()
    let now = 0
    const progress = createProgress(logger, { file: 's3://b/m.onnx' }, 10 * 1024 * 1024, () => now)
    for (let i = 0; i < 40; i++) {
      now += 100 // 4 s in all, 1 MiB every 400 ms
      if (i % 4 === 3) progress.add(1024 * 1024)
    }
    progress.done()
    const lines = logger.lines.map((l) => l.msg)
    expect(lines.filter((m) => m === 'model download progress')).toHaveLength(3)
    expect(lines.at(-1)).toBe('model file downloaded')
    expect(logger.lines[0]?.fields).toMatchObject({
      bytes: 3 * 1024 * 1024,
      percent: 30,
      mbPerS: 2.5,
    })
    expect(logger.lines.at(-1)?.fields).toMatchObject({ percent: 100, ms: 4000 })
  })
})

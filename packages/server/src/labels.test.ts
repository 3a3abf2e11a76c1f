import { describe, expect, it } from 'vitest'
import { parseLabels } from './labels.js'

describe('parseLabels', () => {
  it('keeps one label per line in order, strips CR and trailing blank lines', () => {
    expect(parseLabels('tench\r\ngoldfish\n  great white shark \n\n')).toEqual([
      'tench',
      'goldfish',
      'great white shark',
    ])
  })
})

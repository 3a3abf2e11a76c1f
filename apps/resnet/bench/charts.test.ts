import { describe, expect, it } from 'vitest'
import { renderLoadChart } from './charts.ts'
import { sharp } from './sharp.ts'

const curve = (series: string, rate: number) =>
  [1, 4, 16, 64].map((connections) => ({
    series,
    connections,
    okPerS: rate * Math.min(connections, 4),
    p50Ms: 10 * connections,
    p99Ms: 30 * connections,
  }))

describe('renderLoadChart', () => {
  it('renders a valid SVG with both curves, the engine limit, axes and title', async () => {
    const svg = await renderLoadChart({
      title: 'MobileNetV2, 12 MP JPEG',
      points: [...curve('ours', 20), ...curve('naive', 8)],
      engineLimit: 95,
    })
    expect(svg.startsWith('<svg')).toBe(true)
    for (const text of [
      'MobileNetV2, 12 MP JPEG',
      'ours',
      'naive',
      'engine limit',
      'concurrent clients',
    ]) {
      expect(svg).toContain(`>${text}<`)
    }
    // one line per series in throughput, two (p50, p99) per series in latency
    expect(svg.match(/aria-roledescription="line mark"/g)?.length ?? 0).toBe(6)
    // librsvg (through sharp) parses and rasterises it: valid SVG, about the size laid out
    const { width, height } = await sharp(Buffer.from(svg))
      .png()
      .toBuffer({ resolveWithObject: true })
      .then((r) => r.info)
    expect(width).toBeGreaterThan(600)
    expect(height).toBeGreaterThan(200)
  })

  it('leaves the rule out when the engine limit was not measured', async () => {
    const svg = await renderLoadChart({ title: 't', points: curve('ours', 20) })
    expect(svg).not.toContain('>engine limit<')
  })
})

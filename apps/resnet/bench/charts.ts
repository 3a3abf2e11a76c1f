// SVG charts of the bench report, specified in Vega-Lite and rendered headless by Vega (no
// browser, no canvas: `renderer: 'none'` and the View's own SVG serialiser).
import * as vega from 'vega'
import { compile } from 'vega-lite'
import type { TopLevelSpec } from 'vega-lite'

/** One load phase of one server: closed loop at `connections`. */
export interface ChartPoint {
  /** The curve it belongs to, e.g. "ours" or "naive". */
  readonly series: string
  readonly connections: number
  /** 2xx responses per second. */
  readonly okPerS: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/** What one chart shows: a model, an input, the curves and the engine limit (a horizontal rule). */
export interface LoadChart {
  readonly title: string
  readonly points: readonly ChartPoint[]
  /** In-process images/s (no HTTP); omitted when not measured. */
  readonly engineLimit?: number | undefined
}

const WIDTH = 300
const HEIGHT = 200
const x = {
  field: 'connections',
  type: 'quantitative',
  title: 'concurrent clients',
  scale: { type: 'log', base: 2 },
  axis: { values: [1, 2, 4, 8, 16, 32, 64] },
} as const
const colour = {
  field: 'series',
  type: 'nominal',
  title: null,
  legend: { labelLimit: 320 },
} as const

/** The Vega-Lite spec: throughput against concurrency beside p50 (solid) / p99 (dashed) latency. */
export function loadChartSpec(chart: LoadChart): TopLevelSpec {
  const latency = chart.points.flatMap((p) => [
    { series: p.series, connections: p.connections, percentile: 'p50', ms: p.p50Ms },
    { series: p.series, connections: p.connections, percentile: 'p99', ms: p.p99Ms },
  ])
  const limit =
    chart.engineLimit === undefined
      ? []
      : [
          {
            data: { values: [{ limit: chart.engineLimit, label: 'engine limit' }] },
            layer: [
              {
                mark: { type: 'rule', strokeDash: [2, 2], color: 'grey' },
                encoding: { y: { field: 'limit', type: 'quantitative' } },
              },
              {
                mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'grey' },
                encoding: {
                  y: { field: 'limit', type: 'quantitative' },
                  x: { value: 0 },
                  text: { field: 'label' },
                },
              },
            ],
          },
        ]
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chart.title,
    background: 'white',
    hconcat: [
      {
        width: WIDTH,
        height: HEIGHT,
        title: 'throughput',
        layer: [
          {
            data: { values: chart.points.map((p) => ({ ...p })) },
            mark: { type: 'line', point: true },
            encoding: {
              x,
              y: { field: 'okPerS', type: 'quantitative', title: '2xx responses/s' },
              color: colour,
            },
          },
          ...limit,
        ],
      },
      {
        width: WIDTH,
        height: HEIGHT,
        title: 'latency (p50 solid, p99 dashed)',
        data: { values: latency },
        mark: { type: 'line', point: true },
        encoding: {
          x,
          y: { field: 'ms', type: 'quantitative', title: 'ms', scale: { type: 'log' } },
          color: colour,
          strokeDash: { field: 'percentile', type: 'nominal', title: null },
          detail: { field: 'series' },
        },
      },
    ],
  } as TopLevelSpec
}

/** Renders a chart to a standalone SVG document. */
export async function renderLoadChart(chart: LoadChart): Promise<string> {
  const view = new vega.View(vega.parse(compile(loadChartSpec(chart)).spec), { renderer: 'none' })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

/** The effective preprocessing as one readable line per setting, with where it came from. */
import type { ModelConfig } from '@resnet/preprocess'

const show = (value: unknown): string =>
  typeof value === 'number' ? String(Number(value.toPrecision(6))) : JSON.stringify(value)

/**
 * `{ 'input.size': '[224,224] (model)', 'input.mean': '[0.485,0.456,0.406] (default)', … }`:
 * for the start log line and `model:check`.
 */
export function describeConfig(config: ModelConfig): Record<string, string> {
  const { height, width, ...input } = config.input
  const values: Record<string, unknown> = {
    'input.size': [height, width],
    ...Object.fromEntries(Object.entries(input).map(([k, v]) => [`input.${k}`, v])),
    'output.name': config.output.name,
    'output.activation': config.output.activation,
  }
  const described: Record<string, string> = {}
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue
    const source = config.sources[key]
    described[key] = source ? `${show(value)} (${source})` : show(value)
  }
  return described
}

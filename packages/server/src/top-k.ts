/** Output scores -> probabilities and the k best classes. */

/** One class in a prediction. */
export interface Prediction {
  readonly label: string
  readonly index: number
  readonly score: number
}

/** Numerically stable softmax (subtracts the max first), in place on a copy. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  // an indexed copy: Float64Array.from would go through the iterator and a temporary array
  const out = new Float64Array(logits.length)
  let max = -Infinity
  for (let i = 0; i < out.length; i++) {
    const v = logits[i]!
    out[i] = v
    if (v > max) max = v
  }
  let sum = 0
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.exp(out[i]! - max)
    sum += out[i]!
  }
  for (let i = 0; i < out.length; i++) out[i] = out[i]! / sum
  return out
}

/** The `k` highest scores, descending; ties keep the lower index first. */
export function topK(
  scores: ArrayLike<number>,
  k: number,
  labels: readonly string[]
): Prediction[] {
  const best: number[] = []
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i]!
    if (best.length === k && s <= scores[best[k - 1]!]!) continue
    let at = best.length
    while (at > 0 && scores[best[at - 1]!]! < s) at--
    best.splice(at, 0, i)
    if (best.length > k) best.pop()
  }
  return best.map((index) => ({
    label: labels[index] ?? `class_${index}`,
    index,
    score: scores[index]!,
  }))
}

/** labels.txt -> class names by index. */

/** One label per line in class-index order; blank trailing lines are dropped, `\r` stripped. */
export function parseLabels(text: string): string[] {
  const lines = text.split('\n').map((line) => line.replace(/\r$/, '').trim())
  while (lines.length > 0 && lines.at(-1) === '') lines.pop()
  return lines
}

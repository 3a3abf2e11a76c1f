/** Closed-loop load for tests: `clients` concurrent clients POSTing images for `ms`. */

/** Responses by HTTP status, and how many requests were sent. */
export interface LoadOutcome {
  readonly sent: number
  readonly byStatus: Readonly<Record<number, number>>
  /** Bodies of the first few non-2xx responses, for the failure message. */
  readonly failures: readonly string[]
}

/** Each client sends the next image (raw body) as soon as its previous answer is in. */
export async function steadyClients(
  url: string,
  images: readonly Uint8Array[],
  clients: number,
  ms: number
): Promise<LoadOutcome> {
  const until = Date.now() + ms
  const byStatus: Record<number, number> = {}
  const failures: string[] = []
  let sent = 0
  const client = async (offset: number): Promise<void> => {
    for (let i = offset; Date.now() < until; i++) {
      sent++
      const res = await fetch(`${url}/predict`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: images[i % images.length]!,
      })
      const body = await res.text()
      byStatus[res.status] = (byStatus[res.status] ?? 0) + 1
      if (res.status >= 300 && failures.length < 5) failures.push(`${res.status} ${body}`)
    }
  }
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)))
  return { sent, byStatus, failures }
}

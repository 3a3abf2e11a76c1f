/**
 * How the server process is launched, in one place: the Dockerfile's CMD, the "start" script and
 * the benchmark all use these flags (launch.test.ts checks that they agree).
 */

/**
 * Node/V8 flags of the server process. A fixed young generation: V8 otherwise doubles it under
 * load (up to 64 MB a semi-space), an RSS step of 30-100 MB long after start-up. The event loop
 * allocates ~50 KB a request and is mostly collected by full GCs, which ArrayBuffer churn starts;
 * measured on the 20,000-request soak, 16 MB semi-spaces cost no throughput.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16']

/**
 * Node/V8 flags of a batch task (`dist/batch.js`): the server's, and an old generation that starts
 * at 128 MB. With V8's own start (a limit ~2 MB over the ~22 MB live heap) the task's main isolate
 * ran 1-15 full GCs per 1,000 images, a different number each run, each marking the whole heap
 * on V8's helper threads. Measured 2026-12-04 (1,000 images from s3rver, the task pinned to one
 * CPU, 5 alternating runs): V8's threads 0.42-0.51 CPU ms per image with it against 0.48-0.97
 * without, no full GC of the main isolate in 1,000 images, 105 against 101 images/s (medians).
 * A task is a batch job with 4 GB: ~100 MB more heap before the first full GC is cheap there.
 */
export const BATCH_NODE_FLAGS: readonly string[] = [...NODE_FLAGS, '--initial-old-space-size=128']

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

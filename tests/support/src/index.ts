/** Shared test helpers: fixture paths and a local S3-compatible server. Not published. */
export {
  BAD_IMAGES_DIR,
  expectedClasses,
  FIXTURES_DIR,
  IMAGES_DIR,
  MOBILENET_DIR,
} from './fixtures.js'
export { startLocalS3 } from './s3-server.js'
export type { LocalS3 } from './s3-server.js'
export { referencePhotos, referencePixels } from './reference.js'
export { startCountingProxy } from './counting-proxy.js'
export type { CountingProxy } from './counting-proxy.js'
export { startFaultProxy } from './fault-proxy.js'
export type { FaultProxy } from './fault-proxy.js'
export { startFlakyProxy } from './flaky-proxy.js'
export type { FlakyProxy, SeenRequest } from './flaky-proxy.js'
export { SCALED_S3, startShapingProxy } from './shaping-proxy.js'
export type { Shaping, ShapingProxy } from './shaping-proxy.js'

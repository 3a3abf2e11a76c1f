/** Shared test helpers: fixture paths and a local S3-compatible server. Not published. */
export {
  BAD_IMAGES_DIR,
  expectedClasses,
  FIXTURES_DIR,
  IMAGES_DIR,
  MOBILENET_DIR,
} from './fixtures.ts'
export { startLocalS3 } from './s3-server.ts'
export type { LocalS3 } from './s3-server.ts'
export { referencePhotos, referencePixels } from './reference.ts'
export { startCountingProxy } from './counting-proxy.ts'
export type { CountingProxy } from './counting-proxy.ts'
export { startFaultProxy } from './fault-proxy.ts'
export type { FaultProxy } from './fault-proxy.ts'
export { startFlakyProxy } from './flaky-proxy.ts'
export type { FlakyProxy, SeenRequest } from './flaky-proxy.ts'
export { SCALED_S3, startShapingProxy } from './shaping-proxy.ts'
export type { Shaping, ShapingProxy } from './shaping-proxy.ts'
export { breastCancerTreeBundle, treeBundleAvailable } from './tree-bundle.ts'
export type { TreeBundle, TreeExpectations } from './tree-bundle.ts'
export { startNodeApp } from './app-process.ts'
export type { AppProcess } from './app-process.ts'
export { cpuSplit, onCpus, pinSelf } from './cpu-pin.ts'
export type { CpuSplit } from './cpu-pin.ts'

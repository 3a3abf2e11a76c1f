/** Prometheus metrics of one server instance (its own registry: no globals). */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ModelInfo } from './model.js'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/** Why a request was refused before inference. */
export type RejectReason = 'queue_full' | 'deadline' | 'client_gone' | 'draining'

/** Every metric the server records, on one registry. */
export class ServerMetrics {
  readonly registry: Registry = new Registry()
  readonly requests: Counter<'route' | 'method' | 'status'>
  readonly requestSeconds: Histogram<'route'>
  readonly stageSeconds: Histogram<'stage'>
  readonly batchSize: Histogram
  readonly queueDepth: Gauge
  readonly inFlight: Gauge
  readonly rejected: Counter<'reason'>
  readonly modelInfo: Gauge<'name' | 'version' | 'sha256'>
  readonly modelReloads: Counter<'result'>

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 })
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers,
    })
    this.requestSeconds = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request latency by route',
      labelNames: ['route'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.stageSeconds = new Histogram({
      name: 'inference_stage_duration_seconds',
      help: 'Time per stage of a prediction: decode, preprocess (tensor), queue, inference, total',
      labelNames: ['stage'],
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.batchSize = new Histogram({
      name: 'inference_batch_size',
      help: 'Images per inference run',
      buckets: [1, 2, 4, 8, 16, 32, 64],
      registers,
    })
    this.queueDepth = new Gauge({
      name: 'inference_queue_depth',
      help: 'Images waiting for inference',
      registers,
    })
    this.inFlight = new Gauge({
      name: 'http_requests_in_flight',
      help: 'Predict requests in progress',
      registers,
    })
    this.rejected = new Counter({
      name: 'rejected_requests_total',
      help: 'Requests refused before inference, by reason',
      labelNames: ['reason'],
      registers,
    })
    this.modelInfo = new Gauge({
      name: 'model_info',
      help: 'The model being served (value 1)',
      labelNames: ['name', 'version', 'sha256'],
      registers,
    })
    this.modelReloads = new Counter({
      name: 'model_reloads_total',
      help: 'Hot reloads of a new model version, by result (success or failure)',
      labelNames: ['result'],
      registers,
    })
  }

  /** Records the identity of the model now being served. */
  setModel(info: ModelInfo): void {
    this.modelInfo.reset()
    this.modelInfo.set({ name: info.name, version: info.version, sha256: info.sha256 }, 1)
  }
}

import { Duration } from 'aws-cdk-lib'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SERVING_SETTINGS,
  defineServingSettings,
  servingEnvironment,
  servingTimings,
} from './serving-settings.js'

const RUNTIME = {
  modelUri: 's3://models/resnet/',
  modelCacheDir: '/var/cache/models',
  inferenceThreads: 2,
  awsRegion: 'eu-west-1',
}

describe('defineServingSettings', () => {
  it('returns the defaults, frozen', () => {
    const settings = defineServingSettings()
    expect(settings.drainDelay.toSeconds()).toBe(15)
    expect(settings.shutdownTimeout.toSeconds()).toBe(30)
    expect(settings.targetHealthCheck.path).toBe('/readyz')
    expect(Object.isFrozen(settings)).toBe(true)
    expect(Object.isFrozen(settings.targetHealthCheck)).toBe(true)
  })

  it('keeps a default when an override is undefined, and merges health check fields', () => {
    const settings = defineServingSettings({
      drainDelay: undefined,
      targetHealthCheck: { healthyThreshold: 3 },
    })
    expect(settings.drainDelay).toBe(DEFAULT_SERVING_SETTINGS.drainDelay)
    expect(settings.targetHealthCheck).toMatchObject({ path: '/readyz', healthyThreshold: 3 })
  })

  it('rejects a shutdown timeout that does not leave time after the drain', () => {
    expect(() =>
      defineServingSettings({
        drainDelay: Duration.seconds(30),
        shutdownTimeout: Duration.seconds(32),
      })
    ).toThrow(/shutdownTimeout must be whole seconds >= drainDelay \+ 5s/)
  })

  it("rejects a shutdown timeout past ECS's 120 s stopTimeout", () => {
    expect(() => defineServingSettings({ shutdownTimeout: Duration.seconds(116) })).toThrow(
      /must be <= 120s \(ECS's maximum stopTimeout\), got 116/
    )
  })

  it('lists every problem at once', () => {
    const attempt = () =>
      defineServingSettings({
        port: 0,
        drainDelay: Duration.millis(1500),
        targetHealthCheck: { path: 'readyz', timeout: Duration.seconds(10), unhealthyThreshold: 1 },
      })
    expect(attempt).toThrow(/port must be/)
    expect(attempt).toThrow(/drainDelay must be whole seconds/)
    expect(attempt).toThrow(/path must start with '\/'/)
    expect(attempt).toThrow(/timeout must be 2\.\.120 s and shorter than the interval/)
    expect(attempt).toThrow(/unhealthyThreshold must be 2\.\.10/)
  })
})

describe('servingTimings', () => {
  it('drains the target group for exactly the drain delay', () => {
    const settings = defineServingSettings({
      drainDelay: Duration.seconds(40),
      shutdownTimeout: Duration.seconds(60),
    })
    expect(servingTimings(settings).deregistrationDelay.toSeconds()).toBe(40)
  })

  it("stops the container 5 s after the server's own hard limit", () => {
    const settings = defineServingSettings({ shutdownTimeout: Duration.seconds(60) })
    expect(servingTimings(settings).stopTimeout.toSeconds()).toBe(65)
  })

  it('caps the stop timeout at 120 s', () => {
    const settings = defineServingSettings({ shutdownTimeout: Duration.seconds(115) })
    expect(servingTimings(settings).stopTimeout.toSeconds()).toBe(120)
  })
})

describe('servingEnvironment', () => {
  it("produces the server's env contract, timings from the same settings", () => {
    const settings = defineServingSettings({
      drainDelay: Duration.seconds(20),
      shutdownTimeout: Duration.seconds(45),
      logLevel: 'debug',
      maxQueue: 32,
    })
    expect(servingEnvironment(settings, RUNTIME)).toEqual({
      PORT: '8080',
      HOST: '0.0.0.0',
      MODEL_URI: 's3://models/resnet/',
      MODEL_CACHE_DIR: '/var/cache/models',
      LOG_LEVEL: 'debug',
      DRAIN_DELAY_S: '20',
      SHUTDOWN_TIMEOUT_S: '45',
      INFERENCE_THREADS: '2',
      MAX_QUEUE: '32',
      AWS_REGION: 'eu-west-1',
    })
  })
})

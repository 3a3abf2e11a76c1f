/** Composes the whole CDK app: one network stack, then store, service and batch stacks per app. */
import type { App, Environment } from 'aws-cdk-lib'
import type { BatchJobSettings } from './batch-job.js'
import { BatchStack } from './batch-stack.js'
import { ModelStoreStack } from './model-store-stack.js'
import { NetworkStack } from './network-stack.js'
import type { DomainSettings } from './network-stack.js'
import { ServiceStack } from './service-stack.js'
import type { ServiceStackProps } from './service-stack.js'
import type { EgressMode } from './serving-vpc.js'

/** Where one app's image comes from. */
export type AppImage =
  /** Built from `file` with `directory` (the repository root) as context, at deploy time. */
  | { readonly kind: 'asset'; readonly directory: string; readonly file: string }
  /** `tag` in the app's own ECR repository (the model store stack's), pushed by CI. */
  | { readonly kind: 'ecr'; readonly tag: string }

/**
 * One model app (apps/resnet, apps/catboost). Its tuning (listener priority, model version,
 * settings, size, capacity, scaling, alarms) is the service stack's, documented there.
 */
export interface ModelAppConfig extends Pick<
  ServiceStackProps,
  'listenerPriority' | 'modelVersion' | 'settings' | 'size' | 'capacity' | 'scaling' | 'alarms'
> {
  /** `[a-z][a-z0-9-]*`: stack names `<name>-model-store` / `<name>-service`, host `<name>.<zone>`. */
  readonly name: string
  readonly image: AppImage
  /** @default `models/<name>/` */
  readonly modelPrefix?: string
  /**
   * Shards, tasks and capacity of its batch jobs; `false` for an app without a batch runner (no
   * `<name>-batch` stack). @default DEFAULT_BATCH_JOB
   */
  readonly batch?: BatchJobSettings | false
}

/** Everything the app is built from; `bin/app.ts` fills it from CDK context. */
export interface ServingAppConfig {
  readonly apps: readonly ModelAppConfig[]
  /** @default - env-agnostic stacks */
  readonly env?: Environment
  /** @default - plain HTTP on the ALB's DNS name */
  readonly domain?: DomainSettings
  /** @default 'nat-gateway' */
  readonly egress?: EgressMode
  /** @default 1 */
  readonly natGateways?: number
  /** @default - alarms have no actions */
  readonly alarmTopicArn?: string
}

/** The stacks of one model app. */
export interface AppStacks {
  readonly store: ModelStoreStack
  readonly service: ServiceStack
  /** Absent for an app with `batch: false`. */
  readonly batch: BatchStack | undefined
}

/** Name of the shared network stack. */
export const NETWORK_STACK_NAME = 'model-serving-network'

/**
 * Adds the network stack and, per app, `<name>-model-store`, `<name>-service` and (unless
 * `batch: false`) `<name>-batch` to `app`. No app's stack refers to another app's: deploying
 * one (`cdk deploy catboost-service`) touches only it and, when changed, the network stack.
 * @example const { apps } = addServingStacks(new App(), { apps: [{ name: 'resnet', ... }] })
 */
export function addServingStacks(
  app: App,
  config: ServingAppConfig
): { network: NetworkStack; apps: AppStacks[] } {
  assertApps(config.apps)
  const { env } = config
  const network = new NetworkStack(app, NETWORK_STACK_NAME, {
    env,
    description: 'Shared VPC and public ALB for the model apps',
    tags: { app: 'model-serving' },
    domain: config.domain,
    egress: config.egress,
    natGateways: config.natGateways,
    ecsAgentEndpoints: config.apps.some((a) => a.capacity?.kind === 'ec2'),
  })
  const apps = config.apps.map((a) => {
    const store = new ModelStoreStack(app, `${a.name}-model-store`, {
      env,
      description: `Model artifact bucket and image repository for ${a.name}`,
      modelPrefix: a.modelPrefix ?? `models/${a.name}/`,
      tags: { app: a.name },
      // Stateful: the bucket and repository are retained anyway; this also guards the stack.
      terminationProtection: true,
    })
    const image =
      a.image.kind === 'ecr'
        ? { kind: 'ecr' as const, repository: store.repository, tag: a.image.tag }
        : a.image
    const service = new ServiceStack(app, `${a.name}-service`, {
      env,
      description: `Model server ${a.name} on ECS behind the shared ALB`,
      tags: { app: a.name },
      appName: a.name,
      network,
      store,
      image,
      listenerPriority: a.listenerPriority,
      modelVersion: a.modelVersion,
      settings: a.settings,
      size: a.size,
      capacity: a.capacity,
      scaling: a.scaling,
      alarms: a.alarms,
      alarmTopicArn: config.alarmTopicArn,
    })
    if (a.batch === false) return { store, service, batch: undefined }
    const batch = new BatchStack(app, `${a.name}-batch`, {
      env,
      description: `Batch inference for ${a.name}: S3 prefix in, JSON Lines out (Step Functions + ECS)`,
      tags: { app: a.name },
      network,
      store,
      image,
      modelVersion: a.modelVersion,
      size: a.size,
      job: a.batch,
    })
    return { store, service, batch }
  })
  return { network, apps }
}

function assertApps(apps: readonly ModelAppConfig[]): void {
  const problems: string[] = []
  for (const a of apps) {
    if (!/^[a-z][a-z0-9-]{0,39}$/.test(a.name)) {
      problems.push(`app name must match /^[a-z][a-z0-9-]{0,39}$/, got '${a.name}'`)
    }
    if (!(
      Number.isInteger(a.listenerPriority) &&
      a.listenerPriority >= 1 &&
      a.listenerPriority <= 50_000
    )) {
      problems.push(`${a.name}: listenerPriority must be an integer in 1..50000`)
    }
  }
  const dup = (key: (a: ModelAppConfig) => string | number) =>
    apps.map(key).filter((v, i, all) => all.indexOf(v) !== i)
  for (const name of dup((a) => a.name)) problems.push(`app '${name}' is defined twice`)
  for (const p of dup((a) => a.listenerPriority))
    problems.push(`listener priority ${p} is used twice`)
  if (problems.length > 0) throw new Error(`Invalid model apps:\n  - ${problems.join('\n  - ')}`)
}

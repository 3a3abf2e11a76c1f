/** CDK entry point: the only place that reads context or environment. Stacks stay env-agnostic. */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { App, Duration, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { DEFAULT_SCALING } from '../lib/model-service.js'
import { DEFAULT_TASK_SIZE } from '../lib/model-task.js'
import type { CapacitySettings } from '../lib/service-cluster.js'
import { addServingStacks } from '../lib/serving-app.js'
import type { AppImage, ModelAppConfig } from '../lib/serving-app.js'
import { defineServingSettings } from '../lib/serving-settings.js'
import { contextReader, findRepoRoot } from './context.js'

/**
 * The model apps: each gets `<name>-model-store`, `<name>-service` (host `<name>.<domain>` on the
 * shared ALB, its own listener rule, scaling and alarms) and, with a batch runner, `<name>-batch`.
 * `maxQueue` counts what the app queues: images for resnet, rows for catboost.
 */
const APPS = [
  { name: 'resnet', listenerPriority: 10, dockerfile: 'apps/resnet/Dockerfile', maxQueue: 64 },
  {
    name: 'catboost',
    listenerPriority: 20,
    dockerfile: 'apps/catboost/Dockerfile',
    maxQueue: 8192,
    batch: false as const,
  },
]

const app = new App()
const ctx = contextReader(app.node)
const repoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)))

function appConfig(a: (typeof APPS)[number]): ModelAppConfig {
  const key = (k: string) => `${a.name}:${k}`
  const tag = ctx.string(key('imageTag'))
  const image: AppImage = tag
    ? { kind: 'ecr', tag }
    : { kind: 'asset', directory: repoRoot, file: a.dockerfile }
  const instanceType = ctx.string(key('ec2InstanceType'))
  const capacity: CapacitySettings = instanceType
    ? { kind: 'ec2', instanceType, maxInstances: ctx.int(key('maxInstances'), 1, 100) }
    : { kind: 'fargate', spotWeight: ctx.int(key('spotWeight'), 0, 1000) }
  const seconds = (k: string) => {
    const s = ctx.int(key(k), 0, 3600)
    return s === undefined ? undefined : Duration.seconds(s)
  }
  const minTasks = ctx.int(key('minTasks'), 1, 1000) ?? DEFAULT_SCALING.minTasks
  return {
    name: a.name,
    listenerPriority: a.listenerPriority,
    image,
    modelPrefix: ctx.string(key('modelPrefix')),
    modelVersion: ctx.string(key('modelVersion')),
    settings: defineServingSettings({
      drainDelay: seconds('drainDelayS'),
      shutdownTimeout: seconds('shutdownTimeoutS'),
      maxQueue: a.maxQueue,
    }),
    ...('batch' in a ? { batch: a.batch } : {}),
    size: {
      ...DEFAULT_TASK_SIZE,
      architecture: ctx.oneOf(key('architecture'), ['X86_64', 'ARM64'] as const) ?? 'X86_64',
    },
    capacity,
    scaling: {
      ...DEFAULT_SCALING,
      minTasks,
      maxTasks: ctx.int(key('maxTasks'), 1, 1000) ?? Math.max(minTasks, DEFAULT_SCALING.maxTasks),
    },
  }
}

const apps = APPS.map(appConfig)
const zoneName = ctx.string('domainName')
const hostedZoneId = ctx.string('hostedZoneId')
if ((zoneName === undefined) !== (hostedZoneId === undefined)) {
  throw new Error("context 'domainName' and 'hostedZoneId' go together: pass both or neither")
}
const region = ctx.string('region')
const account = ctx.string('account')
const config = {
  apps,
  // Env-agnostic unless asked: a region turns on ALB access logs; nothing is looked up.
  env: region || account ? { region, account } : undefined,
  domain: zoneName && hostedZoneId ? { zoneName, hostedZoneId } : undefined,
  egress: ctx.oneOf('egress', ['nat-gateway', 'vpc-endpoints'] as const),
  natGateways: ctx.int('natGateways', 1, 2),
  alarmTopicArn: ctx.string('alarmTopicArn'),
}
ctx.assertValid()
addServingStacks(app, config)

// cdk-nag v3 is a policy validation plugin: unacknowledged findings fail `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app))

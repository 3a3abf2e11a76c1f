/**
 * The batch task of one model app: the app's own image with the batch command (`dist/batch.js`),
 * a role that reads the model and the input prefix and writes only the output prefix.
 */
import { RemovalPolicy, Size, Stack } from 'aws-cdk-lib'
import {
  AwsLogDriverMode,
  CpuArchitecture,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
} from 'aws-cdk-lib/aws-ecs'
import type { ContainerDefinition } from 'aws-cdk-lib/aws-ecs'
import { Grant } from 'aws-cdk-lib/aws-iam'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'
import { grantPrefixRead } from './model-bucket.js'
import { containerImage, DEFAULT_TASK_SIZE, MODEL_CACHE_DIR } from './model-task.js'
import type { ImageSource, TaskSize } from './model-task.js'

/** The batch entry point in the image, launched with the app's batch Node flags (src/launch.ts). */
export const BATCH_COMMAND: readonly string[] = [
  'node',
  '--max-semi-space-size=16',
  '--initial-old-space-size=128',
  'dist/batch.js',
]

/** A bucket and key prefix (`some/folder/`). */
export interface BucketPrefix {
  readonly bucket: IBucket
  readonly prefix: string
}

/** Options for {@link BatchTask}. */
export interface BatchTaskProps {
  readonly image: ImageSource
  readonly model: BucketPrefix
  /** `s3://…` of the model bundle, under `model.prefix`. */
  readonly modelUri: string
  /** Read only. */
  readonly input: BucketPrefix
  /** Plans and results: read (the plan, done shards) and written. */
  readonly output: BucketPrefix
  /** @default DEFAULT_TASK_SIZE */
  readonly size?: TaskSize
}

/**
 * The Fargate task definition a batch job runs, one task per group of shards.
 * @example new BatchTask(this, 'Task', { image, model, modelUri, input, output })
 */
export class BatchTask extends Construct {
  readonly taskDefinition: FargateTaskDefinition
  readonly container: ContainerDefinition
  readonly logGroup: LogGroup

  constructor(scope: Construct, id: string, props: BatchTaskProps) {
    super(scope, id)
    const size = props.size ?? DEFAULT_TASK_SIZE
    const arm = size.architecture === 'ARM64'
    this.taskDefinition = new FargateTaskDefinition(this, 'Definition', {
      cpu: size.cpu,
      memoryLimitMiB: size.memoryMiB,
      ephemeralStorageGiB: Math.max(21, 20 + size.modelCacheGiB),
      runtimePlatform: {
        cpuArchitecture: arm ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    })
    const role = this.taskDefinition.taskRole
    grantPrefixRead(role, props.model.bucket, props.model.prefix)
    grantPrefixRead(role, props.input.bucket, props.input.prefix)
    // the output prefix is read too: the plan, and a HEAD that must see 404 (not 403) for a
    // shard not done yet, which needs ListBucket
    grantPrefixRead(role, props.output.bucket, props.output.prefix)
    Grant.addToPrincipal({
      grantee: role,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [props.output.bucket.arnForObjects(`${props.output.prefix}*`)],
    })

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.container = this.taskDefinition.addContainer('Batch', {
      image: containerImage(this, props.image, arm),
      essential: true,
      // the state machine overrides the arguments per task (plan / work --shards …)
      command: [...BATCH_COMMAND, '--help'],
      environment: {
        MODEL_URI: props.modelUri,
        MODEL_CACHE_DIR,
        INFERENCE_THREADS: String(Math.max(1, Math.floor(size.cpu / 1024))),
        AWS_REGION: Stack.of(this).region,
      },
      logging: LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'batch',
        mode: AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    })
  }
}

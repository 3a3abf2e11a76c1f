/** The task of one model app: its image, size, env, health check, logs and S3 read access. */
import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib'
import type { IRepository } from 'aws-cdk-lib/aws-ecr'
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets'
import {
  AwsLogDriverMode,
  Compatibility,
  ContainerImage,
  CpuArchitecture,
  LogDrivers,
  NetworkMode,
  OperatingSystemFamily,
  TaskDefinition,
} from 'aws-cdk-lib/aws-ecs'
import type { ContainerDefinition } from 'aws-cdk-lib/aws-ecs'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'
import { grantPrefixRead } from './model-bucket.js'
import type { CpuArch } from './service-cluster.js'
import { servingEnvironment, servingTimings } from './serving-settings.js'
import type { ServingSettings } from './serving-settings.js'

/** Where the container image comes from. */
export type ImageSource =
  /** Built from a Dockerfile at deploy time (`directory` is the build context). */
  | { readonly kind: 'asset'; readonly directory: string; readonly file: string }
  /** An image already pushed to ECR, e.g. by CI, tagged with the git SHA. */
  | { readonly kind: 'ecr'; readonly repository: IRepository; readonly tag: string }

/** vCPU, memory, architecture and the model cache size of one task. */
export interface TaskSize {
  /** CPU units (1024 = 1 vCPU); `INFERENCE_THREADS` is set to the vCPU count. */
  readonly cpu: number
  readonly memoryMiB: number
  readonly architecture: CpuArch
  /** Disk for the model cache on top of Fargate's 20 GiB base (which also holds the image). */
  readonly modelCacheGiB: number
}

/** 2 vCPU / 4 GiB: ResNet-50 needs ~0.5 GB RSS; 2 threads give ~45 images/s per task. */
export const DEFAULT_TASK_SIZE: TaskSize = Object.freeze({
  cpu: 2048,
  memoryMiB: 4096,
  architecture: 'X86_64',
  modelCacheGiB: 5,
})

/** Where the container caches models (a task volume: the root filesystem is read-only). */
export const MODEL_CACHE_DIR = '/var/cache/models'

/** The container's temp space (`TMPDIR` in the image), also a task volume. */
export const TEMP_DIR = '/var/tmp/app'

/** Options for {@link ModelTask}. */
export interface ModelTaskProps {
  readonly image: ImageSource
  readonly settings: ServingSettings
  /** The model bucket (as imported into the service stack). */
  readonly modelBucket: IBucket
  /** Prefix the task may read, e.g. `models/resnet/`. */
  readonly modelPrefix: string
  /** `s3://<bucket>/<prefix>` the server loads, under `modelPrefix`. */
  readonly modelUri: string
  /** Build an EC2-compatible task (no ephemeral storage or runtime platform settings). */
  readonly onEc2: boolean
  /** @default DEFAULT_TASK_SIZE */
  readonly size?: TaskSize
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays
}

/**
 * The task definition and its one container. The task role can only read `modelPrefix`.
 *
 * @example
 * const task = new ModelTask(this, 'Task', { image, settings, modelBucket, modelPrefix, modelUri,
 *   onEc2: false })
 */
export class ModelTask extends Construct {
  /** The task definition. */
  readonly taskDefinition: TaskDefinition
  /** The model server container. */
  readonly container: ContainerDefinition
  /** Where the container logs go. */
  readonly logGroup: LogGroup

  constructor(scope: Construct, id: string, props: ModelTaskProps) {
    super(scope, id)
    const { settings } = props
    const size = props.size ?? DEFAULT_TASK_SIZE
    const arm = size.architecture === 'ARM64'

    this.taskDefinition = new TaskDefinition(this, 'Definition', {
      compatibility: props.onEc2 ? Compatibility.EC2 : Compatibility.FARGATE,
      networkMode: NetworkMode.AWS_VPC,
      cpu: String(size.cpu),
      memoryMiB: String(size.memoryMiB),
      ...(props.onEc2
        ? {}
        : {
            ephemeralStorageGiB: Math.max(21, 20 + size.modelCacheGiB),
            runtimePlatform: {
              cpuArchitecture: arm ? CpuArchitecture.ARM64 : CpuArchitecture.X86_64,
              operatingSystemFamily: OperatingSystemFamily.LINUX,
            },
          }),
    })
    grantPrefixRead(this.taskDefinition.taskRole, props.modelBucket, props.modelPrefix)

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    const port = settings.port
    this.container = this.taskDefinition.addContainer('Server', {
      image: containerImage(this, props.image, arm),
      essential: true,
      portMappings: [{ containerPort: port, name: 'http' }],
      environment: servingEnvironment(settings, {
        modelUri: props.modelUri,
        modelCacheDir: MODEL_CACHE_DIR,
        inferenceThreads: Math.max(1, Math.floor(size.cpu / 1024)),
        awsRegion: Stack.of(this).region,
      }),
      stopTimeout: servingTimings(settings).stopTimeout,
      // Security Hub ECS.5: nothing but the two task volumes below is writable.
      readonlyRootFilesystem: true,
      // Liveness only (/healthz): readiness is the ALB's job, and a slow model load is not a fault.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${port}/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(10),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(30),
      },
      // Non-blocking: a slow CloudWatch Logs endpoint must not stall the server's stdout writes.
      logging: LogDrivers.awsLogs({
        logGroup: this.logGroup,
        streamPrefix: 'server',
        mode: AwsLogDriverMode.NON_BLOCKING,
        maxBufferSize: Size.mebibytes(25),
      }),
    })
    // Task volumes (Fargate: on the task's ephemeral storage). An empty volume mounted over a
    // directory of the image takes that directory's owner, the image's `node` user.
    for (const [name, containerPath] of [
      ['model-cache', MODEL_CACHE_DIR],
      ['tmp', TEMP_DIR],
    ] as const) {
      this.taskDefinition.addVolume({ name })
      this.container.addMountPoints({ sourceVolume: name, containerPath, readOnly: false })
    }
  }
}

/** The image for `source`; an asset is built for the task's CPU architecture. */
export function containerImage(
  scope: Construct,
  source: ImageSource,
  arm: boolean
): ContainerImage {
  if (source.kind === 'ecr') return ContainerImage.fromEcrRepository(source.repository, source.tag)
  // DockerImageAsset honours `<directory>/.dockerignore`: node_modules, dist, infra (and so
  // cdk.out) are neither hashed at synth nor sent to the build.
  const asset = new DockerImageAsset(scope, 'Image', {
    directory: source.directory,
    file: source.file,
    platform: arm ? Platform.LINUX_ARM64 : Platform.LINUX_AMD64,
  })
  return ContainerImage.fromDockerImageAsset(asset)
}

/**
 * The batch job of one model app as a Step Functions state machine: one ECS task writes the plan
 * (the input split into shards), then a Distributed Map reads the plan's `shards.json` (S3 item
 * reader), batches the shards (item batcher) and runs one ECS task per batch (RunTask `.sync`),
 * many at once. A failed or interrupted task is retried; its done shards are skipped then.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib'
import type { ISecurityGroup, SubnetSelection } from 'aws-cdk-lib/aws-ec2'
import { FargatePlatformVersion } from 'aws-cdk-lib/aws-ecs'
import type { ICluster } from 'aws-cdk-lib/aws-ecs'
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs'
import {
  DefinitionBody,
  DistributedMap,
  Errors,
  IntegrationPattern,
  ItemBatcher,
  JsonPath,
  LogLevel,
  Pass,
  S3JsonItemReader,
  StateMachine,
} from 'aws-cdk-lib/aws-stepfunctions'
import type { IChainable } from 'aws-cdk-lib/aws-stepfunctions'
import {
  CapacityProviderOptions,
  EcsFargateLaunchTarget,
  EcsRunTask,
} from 'aws-cdk-lib/aws-stepfunctions-tasks'
import { Construct } from 'constructs'
import { BATCH_COMMAND } from './batch-task.js'
import type { BatchTask, BucketPrefix } from './batch-task.js'

/** Shards, tasks and capacity of a job. */
export interface BatchJobSettings {
  /** Images per shard (one output object each). */
  readonly shardSize: number
  /** Shards per ECS task (the item batch). */
  readonly shardsPerTask: number
  /** Most tasks at once. */
  readonly maxTasks: number
  /** Run on Fargate Spot: an interrupted task is retried and skips its done shards. */
  readonly spot: boolean
}

/**
 * 500-image shards, 20 per task (10,000 images: ~80 s at MobileNetV2's ~125 images/s, long next
 * to a task's ~45 s start), 20 tasks at once, on Spot. A retried task redoes only its unfinished
 * shard, so long tasks cost nothing on an interruption.
 */
export const DEFAULT_BATCH_JOB: BatchJobSettings = Object.freeze({
  shardSize: 500,
  shardsPerTask: 20,
  maxTasks: 20,
  spot: true,
})

/** Options for {@link BatchJob}. */
export interface BatchJobProps {
  readonly task: BatchTask
  readonly cluster: ICluster
  readonly subnets: SubnetSelection
  readonly securityGroup: ISecurityGroup
  readonly input: BucketPrefix
  readonly output: BucketPrefix
  /** @default DEFAULT_BATCH_JOB */
  readonly settings?: BatchJobSettings
}

/**
 * Starts with `{"input": "<folder under the input prefix>/", "job": "<name>"}`: classifies every
 * object under `<input prefix><input>` into `<output prefix><job>/results/`.
 */
export class BatchJob extends Construct {
  readonly stateMachine: StateMachine

  constructor(scope: Construct, id: string, props: BatchJobProps) {
    super(scope, id)
    const settings = props.settings ?? DEFAULT_BATCH_JOB
    const { input, output } = props
    const inputUri = JsonPath.format(
      `s3://${input.bucket.bucketName}/${input.prefix}{}`,
      JsonPath.stringAt('$.input')
    )
    const outputKey = JsonPath.format(`${output.prefix}{}/`, JsonPath.stringAt('$.job'))
    const command = (...args: string[]) => JsonPath.array(...BATCH_COMMAND, ...args)
    const at = (path: string) => JsonPath.stringAt(path)

    const prepare = new Pass(this, 'Prepare', {
      parameters: {
        'job.$': '$.job',
        outputKey,
        output: JsonPath.format(`s3://${output.bucket.bucketName}/{}`, outputKey),
        input: inputUri,
      },
    })
    const planCommand = new Pass(this, 'PlanCommand', {
      parameters: {
        command: command(
          'plan',
          '--input',
          at('$.input'),
          '--output',
          at('$.output'),
          '--shard-size',
          String(settings.shardSize)
        ),
      },
      resultPath: '$.plan',
    })
    const plan = this.#runTask('Plan', props, settings, '$.plan.command')
    const shards = new DistributedMap(this, 'Shards', {
      itemReader: new S3JsonItemReader({
        bucket: output.bucket,
        key: JsonPath.format('{}_plan/shards.json', JsonPath.stringAt('$.outputKey')),
      }),
      itemBatcher: new ItemBatcher({
        maxItemsPerBatch: settings.shardsPerTask,
        batchInput: { 'output.$': '$.output' },
      }),
      maxConcurrency: settings.maxTasks,
      resultPath: JsonPath.DISCARD,
    })
    const workCommand = new Pass(this, 'WorkCommand', {
      parameters: {
        command: command(
          'work',
          '--output',
          at('$.BatchInput.output'),
          '--shards',
          JsonPath.jsonToString(JsonPath.objectAt('$.Items'))
        ),
      },
    })
    shards.itemProcessor(workCommand.next(this.#runTask('Work', props, settings, '$.command')))

    const logs = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    })
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(
        prepare.next(planCommand).next(plan).next(shards)
      ),
      logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
      tracingEnabled: true,
    })
  }

  /** ECS RunTask `.sync` of the batch task with the command at `commandPath`, retried. */
  #runTask(
    id: string,
    props: BatchJobProps,
    settings: BatchJobSettings,
    commandPath: string
  ): IChainable {
    const task = new EcsRunTask(this, id, {
      integrationPattern: IntegrationPattern.RUN_JOB,
      cluster: props.cluster,
      taskDefinition: props.task.taskDefinition,
      launchTarget: new EcsFargateLaunchTarget({
        platformVersion: FargatePlatformVersion.LATEST,
        ...(settings.spot
          ? {
              capacityProviderOptions: CapacityProviderOptions.custom([
                { capacityProvider: 'FARGATE_SPOT', weight: 1 },
              ]),
            }
          : {}),
      }),
      subnets: props.subnets,
      securityGroups: [props.securityGroup],
      containerOverrides: [
        { containerDefinition: props.task.container, command: JsonPath.listAt(commandPath) },
      ],
      resultPath: JsonPath.DISCARD,
    })
    // a Spot interruption, a crash or no capacity: run the same shards again (done ones skipped)
    task.addRetry({
      errors: [Errors.TASKS_FAILED, 'ECS.AmazonECSException'],
      interval: Duration.seconds(30),
      backoffRate: 2,
      maxAttempts: 3,
    })
    return task
  }
}

/**
 * One model app's batch stack: a data bucket (`input/`, `output/`), a Fargate cluster, the batch
 * task (the app's own image, the batch command) and the Step Functions job that runs it at scale.
 */
import { CfnOutput, Stack } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2'
import type { Construct } from 'constructs'
import { acknowledgeBatchFindings } from './batch-acknowledgements.js'
import { BatchJob } from './batch-job.js'
import type { BatchJobSettings } from './batch-job.js'
import { BatchTask } from './batch-task.js'
import { ModelBucket } from './model-bucket.js'
import type { ModelStoreStack } from './model-store-stack.js'
import type { ImageSource, TaskSize } from './model-task.js'
import type { NetworkStack } from './network-stack.js'
import { ServiceCluster } from './service-cluster.js'
import { modelPathFor } from './service-stack.js'

/** Options for {@link BatchStack}. */
export interface BatchStackProps extends StackProps {
  readonly network: NetworkStack
  /** The app's model store: the task reads `store.modelPrefix` only. */
  readonly store: ModelStoreStack
  readonly image: ImageSource
  /** Folder under the model prefix, as the service's. @default - the model prefix itself */
  readonly modelVersion?: string
  /** @default DEFAULT_TASK_SIZE */
  readonly size?: TaskSize
  /** @default DEFAULT_BATCH_JOB */
  readonly job?: BatchJobSettings
}

/** The data bucket's folders: the task reads the first and writes only the second. */
export const BATCH_PREFIXES = Object.freeze({ input: 'input/', output: 'output/' })

/**
 * Batch inference for one app. Start a job with `aws stepfunctions start-execution`
 * (the `StartJob` output prints the command).
 * @example new BatchStack(app, 'resnet-batch', { network, store, image })
 */
export class BatchStack extends Stack {
  readonly data: ModelBucket
  readonly task: BatchTask
  readonly job: BatchJob

  constructor(scope: Construct, id: string, props: BatchStackProps) {
    super(scope, id, props)
    const { network, store } = props
    const vpc = network.network.vpc
    const subnets = network.network.appSubnets
    const modelBucket = store.importModelBucket(this, 'ModelBucket')
    const modelUri = modelBucket.s3UrlForObject(modelPathFor(store.modelPrefix, props.modelVersion))
    this.addStackDependency(store)

    // built like the model bucket: versioned, SSE-S3, TLS only, access-logged; incomplete
    // multipart uploads (the output of a task killed mid-shard) are aborted after 7 days
    this.data = new ModelBucket(this, 'Data')
    const input = { bucket: this.data.bucket, prefix: BATCH_PREFIXES.input }
    const output = { bucket: this.data.bucket, prefix: BATCH_PREFIXES.output }
    const cluster = new ServiceCluster(this, 'Cluster', {
      vpc,
      subnets,
      capacity: { kind: 'fargate' },
      architecture: props.size?.architecture ?? 'X86_64',
    })
    const securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc,
      description: 'Batch tasks: no ingress; HTTPS out to S3, ECR and CloudWatch Logs',
      allowAllOutbound: false,
    })
    securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to AWS APIs')
    this.task = new BatchTask(this, 'Task', {
      image: props.image,
      model: { bucket: modelBucket, prefix: store.modelPrefix },
      modelUri,
      input,
      output,
      size: props.size,
    })
    this.job = new BatchJob(this, 'Job', {
      task: this.task,
      cluster: cluster.cluster,
      subnets,
      securityGroup,
      input,
      output,
      settings: props.job,
    })
    acknowledgeBatchFindings(this, store)

    const out = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description })
    out('StateMachineArn', this.job.stateMachine.stateMachineArn, 'The batch job state machine')
    out('InputUri', this.data.uriFor(BATCH_PREFIXES.input), 'Put the images under here')
    out('OutputUri', this.data.uriFor(BATCH_PREFIXES.output), 'Results: <job>/results/*.jsonl')
    out(
      'StartJob',
      `aws stepfunctions start-execution --state-machine-arn ${this.job.stateMachine.stateMachineArn} --input '{"input":"<folder>/","job":"<name>"}'`,
      'Classifies every object under <InputUri><folder>/ into <OutputUri><name>/results/'
    )
  }
}

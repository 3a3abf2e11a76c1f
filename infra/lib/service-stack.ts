/** One model app's service stack: cluster, task, ECS service, ALB route, DNS, scaling, alarms. */
import { CfnOutput, Stack } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions'
import { ARecord, RecordTarget } from 'aws-cdk-lib/aws-route53'
import { LoadBalancerTarget } from 'aws-cdk-lib/aws-route53-targets'
import { Topic } from 'aws-cdk-lib/aws-sns'
import type { Construct } from 'constructs'
import { DEFAULT_SCALING, ModelService } from './model-service.js'
import type { ScalingSettings } from './model-service.js'
import type { ModelStoreStack } from './model-store-stack.js'
import { ModelTask } from './model-task.js'
import type { ImageSource, TaskSize } from './model-task.js'
import type { NetworkStack } from './network-stack.js'
import { acknowledgeTaskFindings } from './service-acknowledgements.js'
import { ServiceCluster } from './service-cluster.js'
import type { CapacitySettings } from './service-cluster.js'
import { ServiceMonitoring } from './service-monitoring.js'
import type { AlarmSettings } from './service-monitoring.js'
import { DEFAULT_SERVING_SETTINGS } from './serving-settings.js'
import type { ServingSettings } from './serving-settings.js'

/** Options for {@link ServiceStack}. */
export interface ServiceStackProps extends StackProps {
  /** The app's name: its host is `<appName>.<zone>` when the network has a domain. */
  readonly appName: string
  readonly network: NetworkStack
  /** The app's model store: the task reads `store.modelPrefix` only. */
  readonly store: ModelStoreStack
  readonly image: ImageSource
  /** Priority of the app's rule on the shared listener; unique per app. */
  readonly listenerPriority: number
  /**
   * Folder under the model prefix to serve, e.g. `2025-06-01` for `models/resnet/2025-06-01/`.
   * Changing it rolls the service to the new model.
   * @default - the model prefix itself
   */
  readonly modelVersion?: string
  /** @default DEFAULT_SERVING_SETTINGS */
  readonly settings?: ServingSettings
  /** @default DEFAULT_TASK_SIZE */
  readonly size?: TaskSize
  /** @default { kind: 'fargate' } */
  readonly capacity?: CapacitySettings
  /** @default DEFAULT_SCALING */
  readonly scaling?: ScalingSettings
  /** @default DEFAULT_ALARMS */
  readonly alarms?: AlarmSettings
  /**
   * SNS topic notified when an alarm fires or clears, e.g. the on-call topic.
   * @default - alarms have no actions
   */
  readonly alarmTopicArn?: string
}

/**
 * Serves one model app behind the shared ALB. Deploy it alone with `cdk deploy <app>-service`.
 *
 * @example
 * new ServiceStack(app, 'resnet-service', { appName: 'resnet', network, store,
 *   listenerPriority: 10, image: { kind: 'ecr', repository: store.repository, tag: gitSha } })
 */
export class ServiceStack extends Stack {
  /** The ECS cluster and its capacity. */
  readonly cluster: ServiceCluster
  /** The task definition, container and log group. */
  readonly task: ModelTask
  /** The ECS service and its target group. */
  readonly service: ModelService
  /** Alarms and dashboard. */
  readonly monitoring: ServiceMonitoring
  /** Where the app is reached: `https://<app>.<zone>` or `http://<alb dns>`. */
  readonly url: string

  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id, props)
    const { network, store } = props
    const settings = props.settings ?? DEFAULT_SERVING_SETTINGS
    const vpc = network.network.vpc
    const subnets = network.network.appSubnets
    const alb = network.alb
    const modelPath = modelPathFor(store.modelPrefix, props.modelVersion)
    const modelBucket = store.importModelBucket(this, 'ModelBucket')
    const modelUri = modelBucket.s3UrlForObject(modelPath)
    // Fn::ImportValue does not make CloudFormation order the stacks: CDK must.
    this.addStackDependency(store)

    const cluster = (this.cluster = new ServiceCluster(this, 'Cluster', {
      vpc,
      subnets,
      capacity: props.capacity ?? { kind: 'fargate' },
      architecture: props.size?.architecture ?? 'X86_64',
    }))
    this.task = new ModelTask(this, 'Task', {
      image: props.image,
      settings,
      modelBucket,
      modelPrefix: store.modelPrefix,
      modelUri,
      onEc2: cluster.onEc2,
      size: props.size,
    })
    acknowledgeTaskFindings(this.task, store)
    const host = alb.hostFor(props.appName)
    this.service = new ModelService(this, 'Service', {
      cluster,
      task: this.task,
      subnets,
      settings,
      scaling: props.scaling,
      route: { listener: alb.listener, priority: props.listenerPriority, hostHeader: host },
    })
    this.monitoring = new ServiceMonitoring(this, 'Monitoring', {
      service: this.service.service,
      targetGroup: this.service.targetGroup,
      minTasks: (props.scaling ?? DEFAULT_SCALING).minTasks,
      thresholds: props.alarms,
      alarmActions: props.alarmTopicArn
        ? [new SnsAction(Topic.fromTopicArn(this, 'AlarmTopic', props.alarmTopicArn))]
        : [],
    })

    if (alb.zone && host) {
      new ARecord(this, 'Dns', {
        zone: alb.zone,
        recordName: host,
        target: RecordTarget.fromAlias(new LoadBalancerTarget(alb.loadBalancer)),
      })
      this.url = `https://${host}`
    } else {
      this.url = `http://${alb.loadBalancer.loadBalancerDnsName}`
    }

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description })
    output('ServiceUrl', this.url, 'Base URL of the app (POST /predict)')
    output('ModelBucketName', modelBucket.bucketName, 'Bucket holding the model artifacts')
    output('ModelUri', modelUri, 'MODEL_URI the tasks load')
    output('ImageRepositoryUri', store.repository.repositoryUri, 'ECR repository: push <uri>:<tag>')
    output('Image', this.task.container.imageName, 'Image the task definition runs')
    output('ClusterName', cluster.cluster.clusterName, 'ECS cluster')
    output('ServiceName', this.service.service.serviceName, 'ECS service')
    output('LogGroupName', this.task.logGroup.logGroupName, 'Container logs')
    output('DashboardName', this.monitoring.dashboard.dashboardName, 'CloudWatch dashboard')
  }
}

/** The folder of model version `version` under `modelPrefix` (the prefix itself without one). */
export function modelPathFor(modelPrefix: string, version: string | undefined): string {
  if (version !== undefined && !/^\w[\w.-]*(\/\w[\w.-]*)*\/?$/.test(version)) {
    throw new Error(`modelVersion must be a relative folder such as '2025-06-01', got '${version}'`)
  }
  return version ? `${modelPrefix}${version.replace(/\/$/, '')}/` : modelPrefix
}

/** The ECS service of one model app behind the shared ALB, with safe deployments and scaling. */
import { Duration } from 'aws-cdk-lib'
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2'
import type { SubnetSelection } from 'aws-cdk-lib/aws-ec2'
import { Ec2Service, FargateService, PropagatedTagSource } from 'aws-cdk-lib/aws-ecs'
import type { BaseService, BaseServiceOptions } from 'aws-cdk-lib/aws-ecs'
import {
  ApplicationListenerRule,
  ApplicationProtocol,
  ApplicationTargetGroup,
  ListenerCondition,
  TargetGroupLoadBalancingAlgorithmType,
  TargetType,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import type { IApplicationListener } from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import { Construct } from 'constructs'
import type { ModelTask } from './model-task.js'
import type { ServiceCluster } from './service-cluster.js'
import { servingTimings } from './serving-settings.js'
import type { ServingSettings } from './serving-settings.js'

/** Task count bounds and target-tracking goals. */
export interface ScalingSettings {
  readonly minTasks: number
  readonly maxTasks: number
  /** Average CPU the service is scaled to. */
  readonly cpuTargetPercent: number
  /** ALB requests per task per minute the service is scaled to (ALBRequestCountPerTarget). */
  readonly requestsPerTargetPerMinute: number
}

/** Two tasks (one per AZ) up to 10; ~50% of a 2-vCPU ResNet-50 task's ~45 images/s. */
export const DEFAULT_SCALING: ScalingSettings = Object.freeze({
  minTasks: 2,
  maxTasks: 10,
  cpuTargetPercent: 60,
  requestsPerTargetPerMinute: 1200,
})

/** How requests reach the app on the shared listener. */
export interface RouteSettings {
  readonly listener: IApplicationListener
  /** Unique among the apps on the listener; lower wins. */
  readonly priority: number
  /**
   * Host header to match, e.g. `resnet.example.com`.
   * @default - every path (`/*`): the app answers all requests on the listener
   */
  readonly hostHeader?: string
}

/** Options for {@link ModelService}. */
export interface ModelServiceProps {
  readonly cluster: ServiceCluster
  readonly task: ModelTask
  readonly subnets: SubnetSelection
  readonly settings: ServingSettings
  readonly route: RouteSettings
  /** @default DEFAULT_SCALING */
  readonly scaling?: ScalingSettings
}

/**
 * An ECS service with the circuit breaker and rollback, rolling at 100%/200%, registered in a
 * target group that probes `/readyz` and drains for exactly the server's drain delay.
 *
 * @example
 * const svc = new ModelService(this, 'Service', { cluster, task, subnets, settings,
 *   route: { listener: alb.listener, priority: 10, hostHeader: 'resnet.example.com' } })
 */
export class ModelService extends Construct {
  /** The ECS service (Fargate, or EC2 with an ASG capacity provider). */
  readonly service: BaseService
  /** The tasks' security group: ingress from the ALB on the container port, egress 443. */
  readonly securityGroup: SecurityGroup
  /** The target group the listener rule forwards to. */
  readonly targetGroup: ApplicationTargetGroup

  constructor(scope: Construct, id: string, props: ModelServiceProps) {
    super(scope, id)
    const { settings, cluster } = props
    const scaling = props.scaling ?? DEFAULT_SCALING
    if (!(scaling.minTasks >= 1 && scaling.maxTasks >= scaling.minTasks)) {
      throw new Error(
        `scaling needs 1 <= minTasks <= maxTasks, got ${scaling.minTasks}..${scaling.maxTasks}`
      )
    }
    const common: BaseServiceOptions = {
      cluster: cluster.cluster,
      // No desiredCount: CloudFormation would reset the count that autoscaling chose on every
      // deployment. A new service starts with one task and the scalable target's minimum
      // raises it to minTasks.
      circuitBreaker: { enable: true, rollback: true },
      // Rolling update: new tasks must be ready before old ones stop, so capacity never dips.
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: settings.healthCheckGracePeriod,
      // No strategy means the FARGATE launch type (or EC2 for Ec2Service).
      capacityProviderStrategies: cluster.strategies.length > 0 ? cluster.strategies : undefined,
      propagateTags: PropagatedTagSource.SERVICE,
    }
    // Ingress comes only from the ALB (added with the target below); egress only to HTTPS, which
    // covers ECR, S3 (gateway endpoint), CloudWatch Logs and any interface endpoint.
    const securityGroup = (this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: cluster.cluster.vpc,
      description: 'Model server tasks: traffic from the ALB only',
      allowAllOutbound: false,
    }))
    securityGroup.addEgressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS to AWS APIs')
    const placement = {
      vpcSubnets: props.subnets,
      assignPublicIp: false,
      securityGroups: [securityGroup],
    }
    const taskDefinition = props.task.taskDefinition
    this.service = cluster.onEc2
      ? new Ec2Service(this, 'Service', { ...common, ...placement, taskDefinition })
      : new FargateService(this, 'Service', { ...common, ...placement, taskDefinition })

    this.targetGroup = this.createTargetGroup(settings)
    this.targetGroup.addTarget(
      this.service.loadBalancerTarget({ containerName: props.task.container.containerName })
    )
    const { route } = props
    new ApplicationListenerRule(this, 'Route', {
      listener: route.listener,
      priority: route.priority,
      conditions: [
        route.hostHeader
          ? ListenerCondition.hostHeaders([route.hostHeader])
          : ListenerCondition.pathPatterns(['/*']),
      ],
      targetGroups: [this.targetGroup],
    })

    this.addScaling(scaling)
  }

  /** IP targets probed on the readiness path; draining lasts exactly the server's drain. */
  private createTargetGroup(settings: ServingSettings): ApplicationTargetGroup {
    const hc = settings.targetHealthCheck
    return new ApplicationTargetGroup(this, 'Targets', {
      vpc: this.service.cluster.vpc,
      targetType: TargetType.IP,
      protocol: ApplicationProtocol.HTTP,
      port: settings.port,
      deregistrationDelay: servingTimings(settings).deregistrationDelay,
      // Inference latency varies with image size; send work to the least busy task.
      loadBalancingAlgorithmType: TargetGroupLoadBalancingAlgorithmType.LEAST_OUTSTANDING_REQUESTS,
      healthCheck: {
        path: hc.path,
        interval: hc.interval,
        timeout: hc.timeout,
        healthyThresholdCount: hc.healthyThreshold,
        unhealthyThresholdCount: hc.unhealthyThreshold,
        healthyHttpCodes: '200',
      },
    })
  }

  /** Target tracking on CPU and on ALB requests per target, between the task bounds. */
  private addScaling(scaling: ScalingSettings): void {
    const count = this.service.autoScaleTaskCount({
      minCapacity: scaling.minTasks,
      maxCapacity: scaling.maxTasks,
    })
    const cooldowns = {
      scaleOutCooldown: Duration.seconds(60),
      scaleInCooldown: Duration.minutes(5),
    }
    count.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: scaling.cpuTargetPercent,
      ...cooldowns,
    })
    count.scaleOnRequestCount('RequestScaling', {
      requestsPerTarget: scaling.requestsPerTargetPerMinute,
      targetGroup: this.targetGroup,
      ...cooldowns,
    })
  }
}

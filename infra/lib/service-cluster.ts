/** The ECS cluster of one app and where its tasks run: Fargate, a Fargate Spot share, or EC2. */
import { Duration } from 'aws-cdk-lib'
import { AutoScalingGroup } from 'aws-cdk-lib/aws-autoscaling'
import {
  BlockDeviceVolume,
  EbsDeviceVolumeType,
  InstanceType,
  LaunchTemplate,
  SecurityGroup,
  UserData,
} from 'aws-cdk-lib/aws-ec2'
import type { IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2'
import {
  AmiHardwareType,
  AsgCapacityProvider,
  Cluster,
  ContainerInsights,
  EcsOptimizedImage,
} from 'aws-cdk-lib/aws-ecs'
import type { CapacityProviderStrategy } from 'aws-cdk-lib/aws-ecs'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { Construct } from 'constructs'
import { acknowledge } from './nag.js'

/** CPU architecture of the tasks; the image is built for the same platform. */
export type CpuArch = 'X86_64' | 'ARM64'

/**
 * Where tasks run.
 * - `fargate`: no servers to manage. With `spotWeight` > 0, tasks above `onDemandBase` are spread
 *   over FARGATE and FARGATE_SPOT by weight (Spot is ~70% cheaper but can be reclaimed with a
 *   2-minute warning).
 * - `ec2`: an Auto Scaling group capacity provider; cheapest per vCPU at steady load, lets you
 *   pick instance types, but you patch and right-size the instances.
 */
export type CapacitySettings =
  | {
      readonly kind: 'fargate'
      /** Relative weight of FARGATE_SPOT versus FARGATE (weight 1). @default 0 (no Spot) */
      readonly spotWeight?: number
      /** Tasks always placed on on-demand FARGATE before weights apply. @default 1 */
      readonly onDemandBase?: number
    }
  | {
      readonly kind: 'ec2'
      /** e.g. `c7i.xlarge` (X86_64) or `c7g.xlarge` (ARM64). */
      readonly instanceType: string
      /** @default 0 */
      readonly minInstances?: number
      /** @default 4 */
      readonly maxInstances?: number
      /** Root volume size (image layers and the model cache). @default 40 */
      readonly volumeGiB?: number
    }

/** Options for {@link ServiceCluster}. */
export interface ServiceClusterProps {
  readonly vpc: IVpc
  /** Subnets for EC2 container instances. */
  readonly subnets: SubnetSelection
  readonly capacity: CapacitySettings
  readonly architecture: CpuArch
}

/**
 * An ECS cluster with Container Insights, and the capacity provider strategy its service uses.
 *
 * @example
 * const cluster = new ServiceCluster(this, 'Cluster', { vpc, subnets, architecture: 'X86_64',
 *   capacity: { kind: 'fargate', spotWeight: 3 } })
 */
export class ServiceCluster extends Construct {
  /** The cluster. */
  readonly cluster: Cluster
  /** The strategy for the service; empty means the FARGATE launch type. */
  readonly strategies: CapacityProviderStrategy[]
  /** Whether tasks run on EC2 instances (an EC2-compatible task definition is needed). */
  readonly onEc2: boolean

  constructor(scope: Construct, id: string, props: ServiceClusterProps) {
    super(scope, id)
    const { capacity } = props
    this.onEc2 = capacity.kind === 'ec2'
    this.cluster = new Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ContainerInsights.ENABLED,
      enableFargateCapacityProviders: capacity.kind === 'fargate',
    })

    if (capacity.kind === 'fargate') {
      const spotWeight = capacity.spotWeight ?? 0
      this.strategies =
        spotWeight > 0
          ? [
              { capacityProvider: 'FARGATE', base: capacity.onDemandBase ?? 1, weight: 1 },
              { capacityProvider: 'FARGATE_SPOT', weight: spotWeight },
            ]
          : []
      return
    }

    const provider = this.addEc2Capacity(props, capacity)
    this.strategies = [{ capacityProvider: provider.capacityProviderName, weight: 1 }]
  }

  private addEc2Capacity(
    props: ServiceClusterProps,
    capacity: Extract<CapacitySettings, { kind: 'ec2' }>
  ): AsgCapacityProvider {
    const role = new Role(this, 'InstanceRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
    })
    const template = new LaunchTemplate(this, 'LaunchTemplate', {
      instanceType: new InstanceType(capacity.instanceType),
      machineImage: EcsOptimizedImage.amazonLinux2023(
        props.architecture === 'ARM64' ? AmiHardwareType.ARM : AmiHardwareType.STANDARD
      ),
      userData: UserData.forLinux(),
      role,
      securityGroup: new SecurityGroup(this, 'InstanceSecurityGroup', {
        vpc: props.vpc,
        description: 'ECS container instances: no ingress; tasks have their own ENIs',
      }),
      requireImdsv2: true,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: BlockDeviceVolume.ebs(capacity.volumeGiB ?? 40, {
            encrypted: true,
            volumeType: EbsDeviceVolumeType.GP3,
          }),
        },
      ],
    })
    const group = new AutoScalingGroup(this, 'Instances', {
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      launchTemplate: template,
      minCapacity: capacity.minInstances ?? 0,
      maxCapacity: capacity.maxInstances ?? 4,
      // ECS managed scaling decides the size; instances are replaced after a week.
      maxInstanceLifetime: Duration.days(7),
    })
    acknowledge(
      group,
      'AS3',
      'ECS managed scaling drives this group; capacity changes show in the ECS service events and the cluster dashboard, so no SNS notifications.'
    )
    const provider = new AsgCapacityProvider(this, 'Capacity', {
      autoScalingGroup: group,
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
    })
    this.cluster.addAsgCapacityProvider(provider)
    // CDK's ECS instance policy (the managed AmazonEC2ContainerServiceforEC2Role, inlined).
    acknowledge(
      role,
      'IAM5[Action::ecs:Submit*]',
      'ECS agent permission (ecs:SubmitTaskStateChange and friends), limited to this cluster by resource.'
    )
    acknowledge(
      role,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken and ecs:DiscoverPollEndpoint have no resource-level permissions; ecs:Poll/StartTelemetrySession are limited to this cluster by an ecs:cluster condition; logs: the agent writes instance logs.'
    )
    return provider
  }
}

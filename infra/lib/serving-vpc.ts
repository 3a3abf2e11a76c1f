/** The VPC the model services run in: 2 AZs, public subnets for the ALB, private ones for tasks. */
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
} from 'aws-cdk-lib/aws-ec2'
import type { SubnetSelection } from 'aws-cdk-lib/aws-ec2'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'

/** The VPC's address range (CDK's default, spelled out for the endpoint security group). */
export const VPC_CIDR = '10.0.0.0/16'

/**
 * How tasks reach AWS APIs (ECR, CloudWatch Logs, S3):
 * - `nat-gateway`: private subnets with NAT gateways; tasks can also reach the internet.
 * - `vpc-endpoints`: isolated subnets, no NAT; interface endpoints for ECR and Logs.
 * Both add the S3 gateway endpoint, which is free, so model downloads never pass a NAT.
 */
export type EgressMode = 'nat-gateway' | 'vpc-endpoints'

/** Options for {@link ServingVpc}. */
export interface ServingVpcProps {
  /** Bucket that receives the VPC flow logs (under `vpc-flow-logs/`). */
  readonly flowLogsBucket: IBucket
  /** @default 'nat-gateway' */
  readonly egress?: EgressMode
  /**
   * NAT gateways with `nat-gateway` egress: 1 is cheapest, 2 survives the loss of an AZ.
   * @default 1
   */
  readonly natGateways?: number
  /**
   * Also add the ECS agent endpoints (`ecs`, `ecs-agent`, `ecs-telemetry`) with `vpc-endpoints`
   * egress: EC2 container instances need them to register; Fargate tasks do not.
   * @default false
   */
  readonly ecsAgentEndpoints?: boolean
}

/**
 * A VPC over 2 AZs with flow logs to S3, an S3 gateway endpoint, and NAT or interface endpoints.
 *
 * @example
 * const network = new ServingVpc(this, 'Network', { flowLogsBucket, egress: 'vpc-endpoints' })
 * new FargateService(this, 'Service', { vpcSubnets: network.appSubnets, ... })
 */
export class ServingVpc extends Construct {
  /** The VPC. */
  readonly vpc: Vpc
  /** Where tasks run: private subnets (NAT) or isolated ones (endpoints only). */
  readonly appSubnets: SubnetSelection
  /** The egress mode in use. */
  readonly egress: EgressMode

  constructor(scope: Construct, id: string, props: ServingVpcProps) {
    super(scope, id)
    this.egress = props.egress ?? 'nat-gateway'
    const withNat = this.egress === 'nat-gateway'
    const appSubnetType = withNat ? SubnetType.PRIVATE_WITH_EGRESS : SubnetType.PRIVATE_ISOLATED

    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: withNat ? (props.natGateways ?? 1) : 0,
      subnetConfiguration: [
        { name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'App', subnetType: appSubnetType, cidrMask: 22 },
      ],
      gatewayEndpoints: { S3: { service: GatewayVpcEndpointAwsService.S3 } },
      flowLogs: {
        All: {
          destination: FlowLogDestination.toS3(props.flowLogsBucket, 'vpc-flow-logs/'),
          trafficType: FlowLogTrafficType.ALL,
        },
      },
    })
    this.appSubnets = { subnetType: appSubnetType }

    if (!withNat) {
      // One security group for all endpoints: HTTPS from inside the VPC only (a literal CIDR,
      // so the rule is checkable at synth).
      const endpointSecurityGroup = new SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc: this.vpc,
        description: 'Interface VPC endpoints: HTTPS from the VPC',
        allowAllOutbound: false,
      })
      endpointSecurityGroup.addIngressRule(Peer.ipv4(VPC_CIDR), Port.tcp(443), 'HTTPS from the VPC')
      const services = [
        ['EcrApi', InterfaceVpcEndpointAwsService.ECR],
        ['EcrDocker', InterfaceVpcEndpointAwsService.ECR_DOCKER],
        ['Logs', InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS],
      ] as const
      const agent = [
        ['Ecs', InterfaceVpcEndpointAwsService.ECS],
        ['EcsAgent', InterfaceVpcEndpointAwsService.ECS_AGENT],
        ['EcsTelemetry', InterfaceVpcEndpointAwsService.ECS_TELEMETRY],
      ] as const
      for (const [name, service] of [...services, ...(props.ecsAgentEndpoints ? agent : [])]) {
        // Private DNS: the SDKs' default endpoints resolve to the interface inside the VPC.
        this.vpc.addInterfaceEndpoint(name, {
          service,
          subnets: this.appSubnets,
          securityGroups: [endpointSecurityGroup],
          open: false,
        })
      }
    }
  }
}

/** The shared network stack: VPC, the public ALB and its listeners, and their log bucket. */
import { CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import { HostedZone } from 'aws-cdk-lib/aws-route53'
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3'
import type { Construct } from 'constructs'
import { acknowledge } from './nag.js'
import { PublicLoadBalancer } from './public-load-balancer.js'
import { ServingVpc } from './serving-vpc.js'
import type { EgressMode } from './serving-vpc.js'

/** An existing Route53 public hosted zone, by attributes, so synth needs no lookup. */
export interface DomainSettings {
  /** The zone's name, e.g. `example.com`; apps are served at `<app>.example.com`. */
  readonly zoneName: string
  /** The zone's id, e.g. `Z0123456789ABCDEFGHIJ`. */
  readonly hostedZoneId: string
}

/** Options for {@link NetworkStack}. */
export interface NetworkStackProps extends StackProps {
  /** @default - no domain: plain HTTP on the ALB's DNS name */
  readonly domain?: DomainSettings
  /** @default 'nat-gateway' */
  readonly egress?: EgressMode
  /** @default 1 */
  readonly natGateways?: number
  /** @default false */
  readonly ecsAgentEndpoints?: boolean
  /**
   * Days the flow logs and ALB access logs are kept.
   * @default 90
   */
  readonly logRetentionDays?: number
}

/**
 * One per account and region: the VPC and the ALB that fronts every model app. ALB access logs
 * are on when the stack has a concrete region (ELB's log-delivery principal depends on it).
 *
 * @example
 * const network = new NetworkStack(app, 'model-serving-network', { domain, egress: 'nat-gateway' })
 * new ServiceStack(app, 'resnet-service', { network, ... })
 */
export class NetworkStack extends Stack {
  /** The VPC and its subnets for tasks. */
  readonly network: ServingVpc
  /** The public ALB and the listener apps add their rules to. */
  readonly alb: PublicLoadBalancer
  /** Receives VPC flow logs and, with a concrete region, ALB access logs. */
  readonly logBucket: Bucket

  constructor(scope: Construct, id: string, props: NetworkStackProps = {}) {
    super(scope, id, props)

    this.logBucket = new Bucket(this, 'NetworkLogs', {
      // ALB access logs only support SSE-S3.
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(props.logRetentionDays ?? 90) },
      ],
    })
    acknowledge(
      this.logBucket,
      'S1',
      'This bucket only receives VPC flow logs and ALB access logs; logging requests to it would need yet another bucket and adds no audit value.'
    )

    this.network = new ServingVpc(this, 'Network', {
      flowLogsBucket: this.logBucket,
      egress: props.egress,
      natGateways: props.natGateways,
      ecsAgentEndpoints: props.ecsAgentEndpoints,
    })

    const zone = props.domain
      ? HostedZone.fromHostedZoneAttributes(this, 'Zone', {
          zoneName: props.domain.zoneName,
          hostedZoneId: props.domain.hostedZoneId,
        })
      : undefined
    const regionKnown = !Token.isUnresolved(this.region)
    this.alb = new PublicLoadBalancer(this, 'Alb', {
      vpc: this.network.vpc,
      zone,
      accessLogsBucket: regionKnown ? this.logBucket : undefined,
    })
    if (!regionKnown) {
      acknowledge(
        this.alb.loadBalancer,
        'ELB2',
        'Env-agnostic stack: ELB access-log delivery needs the region-specific ELB principal. Synthesize with -c region=<region> to turn access logs on.'
      )
    }
    acknowledge(
      this.alb.securityGroup,
      'EC23',
      'Internet-facing ALB: the security group admits 0.0.0.0/0 only on the listener ports (80, and 443 with a domain).'
    )

    new CfnOutput(this, 'LoadBalancerDnsName', {
      description: 'DNS name of the shared ALB',
      value: this.alb.loadBalancer.loadBalancerDnsName,
    })
  }
}

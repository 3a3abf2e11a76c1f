/** The internet-facing ALB shared by every model app: HTTPS with a domain, plain HTTP without. */
import { Certificate, CertificateValidation } from 'aws-cdk-lib/aws-certificatemanager'
import { Peer, Port, SecurityGroup } from 'aws-cdk-lib/aws-ec2'
import type { IVpc } from 'aws-cdk-lib/aws-ec2'
import {
  ApplicationLoadBalancer,
  ApplicationProtocol,
  ListenerAction,
} from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import type { ApplicationListener } from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import type { IHostedZone } from 'aws-cdk-lib/aws-route53'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'

/** Options for {@link PublicLoadBalancer}. */
export interface PublicLoadBalancerProps {
  readonly vpc: IVpc
  /**
   * Hosted zone of the apps' domain. With it: a `*.<zone>` certificate validated in the zone,
   * HTTPS on 443 and a redirect on 80; each app is `<app>.<zone>`. Without it: plain HTTP on 80.
   * @default - no domain, plain HTTP
   */
  readonly zone?: IHostedZone
  /**
   * Bucket for the ALB's access logs. ELB needs a concrete region to grant log delivery.
   * @default - no access logs
   */
  readonly accessLogsBucket?: IBucket
}

/** Body of the default action: a request whose host (or path) matches no app. */
const NO_APP_BODY = JSON.stringify({
  error: { code: 'NOT_FOUND', message: 'No model app is served at this address' },
})

/**
 * An internet-facing ALB whose security group admits only 80 (and 443 with a domain). Apps add
 * a listener rule on {@link PublicLoadBalancer.listener}; unmatched requests get a JSON 404.
 *
 * @example
 * const alb = new PublicLoadBalancer(this, 'Alb', { vpc, zone })
 * new ApplicationListenerRule(this, 'Rule', { listener: alb.listener, priority: 10, ... })
 */
export class PublicLoadBalancer extends Construct {
  /** The load balancer. */
  readonly loadBalancer: ApplicationLoadBalancer
  /** The listener apps attach their rules to: HTTPS with a domain, else HTTP. */
  readonly listener: ApplicationListener
  /** The ALB's security group: ingress 80/443 from anywhere, egress only to registered targets. */
  readonly securityGroup: SecurityGroup
  /** The apps' hosted zone, when a domain is configured. */
  readonly zone?: IHostedZone
  /** The wildcard certificate, when a domain is configured. */
  readonly certificate?: Certificate

  constructor(scope: Construct, id: string, props: PublicLoadBalancerProps) {
    super(scope, id)
    this.zone = props.zone
    this.securityGroup = new SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Public ALB: HTTP/HTTPS from the internet',
      // Egress rules are added per target (the app's security group and port) by CDK.
      allowAllOutbound: false,
    })
    this.loadBalancer = new ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: true,
      securityGroup: this.securityGroup,
      dropInvalidHeaderFields: true,
    })
    if (props.accessLogsBucket) this.loadBalancer.logAccessLogs(props.accessLogsBucket, 'alb')
    const notFound = ListenerAction.fixedResponse(404, {
      contentType: 'application/json',
      messageBody: NO_APP_BODY,
    })

    this.securityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(80), 'HTTP from the internet')
    if (!props.zone) {
      // Same construct id with and without a domain, so the listener (and its export) survives.
      this.listener = this.loadBalancer.addListener('Listener', {
        protocol: ApplicationProtocol.HTTP,
        port: 80,
        open: false,
        defaultAction: notFound,
      })
      return
    }

    this.securityGroup.addIngressRule(Peer.anyIpv4(), Port.tcp(443), 'HTTPS from the internet')
    this.certificate = new Certificate(this, 'Certificate', {
      domainName: `*.${props.zone.zoneName}`,
      validation: CertificateValidation.fromDns(props.zone),
    })
    this.listener = this.loadBalancer.addListener('Listener', {
      protocol: ApplicationProtocol.HTTPS,
      port: 443,
      open: false,
      certificates: [this.certificate],
      // No sslPolicy: cdk.json's usePostQuantumTlsPolicy flag picks TLS13_12_PQ (TLS 1.2/1.3).
      defaultAction: notFound,
    })
    const redirect = this.loadBalancer.addListener('HttpRedirect', {
      protocol: ApplicationProtocol.HTTP,
      port: 80,
      open: false,
      defaultAction: ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    })
    // When a domain is added to a plain-HTTP network, the app listener moves from 80 to 443 in
    // place; only then may the redirect take port 80.
    redirect.node.addDependency(this.listener)
  }

  /** The host name of `app` (`<app>.<zone>`), or undefined without a domain. */
  hostFor(app: string): string | undefined {
    return this.zone ? `${app}.${this.zone.zoneName}` : undefined
  }
}

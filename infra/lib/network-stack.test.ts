import { Match, Template } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { NetworkStack } from './network-stack.js'
import type { NetworkStackProps } from './network-stack.js'
import { logicalId, testApp } from './test-support.js'

const DOMAIN = { zoneName: 'example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' }

function synth(props: NetworkStackProps = {}) {
  const stack = new NetworkStack(testApp(), 'test-network', props)
  return { stack, template: Template.fromStack(stack) }
}

// Synthesized once per variant and shared by the tests below.
const plain = synth()
const withDomain = synth({ domain: DOMAIN, env: { region: 'eu-west-1' } })
const endpoints = synth({ egress: 'vpc-endpoints' })

/** Ports open to 0.0.0.0/0 on the ALB's security group. */
function albIngressPorts(template: Template, stack: NetworkStack): number[] {
  const sg = template.findResources('AWS::EC2::SecurityGroup')[logicalId(stack.alb.securityGroup)]
  const rules = (sg?.Properties as { SecurityGroupIngress: { CidrIp: string; FromPort: number }[] })
    .SecurityGroupIngress
  return rules.filter((r) => r.CidrIp === '0.0.0.0/0').map((r) => r.FromPort)
}

describe('NetworkStack: VPC', () => {
  it('spans 2 AZs with a public and an app subnet in each', () => {
    const { template } = plain
    template.resourceCountIs('AWS::EC2::Subnet', 4)
    for (const index of [0, 1]) {
      template.hasResourceProperties('AWS::EC2::Subnet', {
        AvailabilityZone: { 'Fn::Select': [index, { 'Fn::GetAZs': '' }] },
        MapPublicIpOnLaunch: false,
      })
    }
  })

  it('nat-gateway egress: one NAT gateway, the S3 gateway endpoint, no interface endpoints', () => {
    const { template } = plain
    template.resourceCountIs('AWS::EC2::NatGateway', 1)
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }),
    })
    expect(
      template.findResources('AWS::EC2::VPCEndpoint', {
        Properties: { VpcEndpointType: 'Interface' },
      })
    ).toEqual({})
  })

  it('vpc-endpoints egress: no NAT; ECR, ECR Docker and Logs endpoints reachable on 443 from the VPC', () => {
    const { template } = endpoints
    template.resourceCountIs('AWS::EC2::NatGateway', 0)
    const services = Object.values(
      template.findResources('AWS::EC2::VPCEndpoint', {
        Properties: { VpcEndpointType: 'Interface' },
      })
    ).map((r) => JSON.stringify((r.Properties as { ServiceName: unknown }).ServiceName))
    expect(services.map((s) => /\.(ecr\.api|ecr\.dkr|logs)"/.exec(s)?.[1]).sort()).toEqual([
      'ecr.api',
      'ecr.dkr',
      'logs',
    ])
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'Interface VPC endpoints: HTTPS from the VPC',
      SecurityGroupIngress: [
        Match.objectLike({ CidrIp: '10.0.0.0/16', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
      ],
    })
  })

  it('sends all flow logs to the network log bucket', () => {
    const { stack, template } = plain
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      LogDestinationType: 's3',
      TrafficType: 'ALL',
      LogDestination: {
        'Fn::Join': [
          '',
          [{ 'Fn::GetAtt': [logicalId(stack.logBucket), 'Arn'] }, '/vpc-flow-logs/'],
        ],
      },
    })
  })

  it('keeps the network log bucket on deletion, and pins its logical ID', () => {
    const { template } = plain
    expect(Object.keys(template.findResources('AWS::S3::Bucket', { DeletionPolicy: 'Retain' })))
      .toMatchInlineSnapshot(`
        [
          "NetworkLogs71CCDE32",
        ]
      `)
  })
})

describe('NetworkStack: ALB', () => {
  it('is internet-facing in the public subnets and drops invalid headers', () => {
    plain.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
      ]),
    })
  })

  it('without a domain: only port 80 is open, one HTTP listener answering 404, no certificate', () => {
    const { stack, template } = plain
    expect(albIngressPorts(template, stack)).toEqual([80])
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1)
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [
        Match.objectLike({
          Type: 'fixed-response',
          FixedResponseConfig: Match.objectLike({ StatusCode: '404' }),
        }),
      ],
    })
    template.resourceCountIs('AWS::CertificateManager::Certificate', 0)
  })

  it('with a domain: a *.<zone> certificate validated in the hosted zone', () => {
    withDomain.template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: '*.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: '*.example.com', HostedZoneId: DOMAIN.hostedZoneId }],
    })
  })

  it('with a domain: ports 80 and 443 open, HTTPS with the certificate, HTTP redirects to HTTPS', () => {
    const { stack, template } = withDomain
    expect(albIngressPorts(template, stack).sort((a, b) => a - b)).toEqual([80, 443])
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2)
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Protocol: 'HTTPS',
      Port: 443,
      Certificates: [{ CertificateArn: { Ref: logicalId(stack.alb.certificate!) } }],
      SslPolicy: Match.stringLikeRegexp('TLS13'),
    })
    template.hasResource('AWS::ElasticLoadBalancingV2::Listener', {
      // Created after the app listener leaves port 80 when a domain is added later.
      DependsOn: [logicalId(stack.alb.listener)],
      Properties: Match.objectLike({
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [
          {
            Type: 'redirect',
            RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' },
          },
        ],
      }),
    })
  })

  it('writes access logs to the log bucket when the region is known, not when env-agnostic', () => {
    withDomain.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: { Ref: logicalId(withDomain.stack.logBucket) } },
      ]),
    })
    plain.template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.not(
        Match.arrayWith([Match.objectLike({ Key: 'access_logs.s3.enabled' })])
      ),
    })
  })
})

import { Duration } from 'aws-cdk-lib'
import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { defineServingSettings } from './serving-settings.js'
import { logicalId, RESNET, servingApp } from './test-support.js'

const DOMAIN = { zoneName: 'example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' }

// One synth per variant, shared by the tests (a synth takes about a second).
const plain = servingApp()
const t = plain.template(plain.service)
const domain = servingApp({ domain: DOMAIN })
const td = domain.template(domain.service)

const importOf = (name: string) => ({ 'Fn::ImportValue': name })
const BUCKET_ARN = importOf('resnet-model-store:ModelBucketArn')
const BUCKET_NAME = importOf('resnet-model-store:ModelBucketName')
/** A value imported from the network stack (CDK names the export). */
const networkImport = (fragment: string) => ({
  'Fn::ImportValue': Match.stringLikeRegexp(`^model-serving-network:.*${fragment}`),
})

describe('ServiceStack: task role', () => {
  it('may only GetObject under its model prefix and ListBucket that prefix', () => {
    const taskRole = plain.service.task.taskDefinition.taskRole
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(taskRole) }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [BUCKET_ARN, '/models/resnet/*']] },
          },
          {
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: BUCKET_ARN,
            Condition: { StringLike: { 's3:prefix': ['models/resnet/', 'models/resnet/*'] } },
          },
        ],
      },
    })
    expect(
      Object.keys(
        t.findResources('AWS::IAM::Policy', {
          Properties: { Roles: [{ Ref: logicalId(taskRole) }] },
        })
      )
    ).toHaveLength(1)
  })
})

describe('ServiceStack: network access', () => {
  const sgId = logicalId(plain.service.service.securityGroup)

  it('admits traffic to the tasks only from the ALB security group, on the container port', () => {
    expect(Object.keys(t.findResources('AWS::EC2::SecurityGroupIngress'))).toHaveLength(1)
    t.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
      SourceSecurityGroupId: networkImport('AlbSecurityGroup'),
      IpProtocol: 'tcp',
      FromPort: 8080,
      ToPort: 8080,
    })
    const inline = t.findResources('AWS::EC2::SecurityGroup', {
      Properties: { SecurityGroupIngress: Match.anyValue() },
    })
    expect(Object.keys(inline)).toEqual([])
  })

  it('lets the tasks out on 443 only, and the ALB out to the tasks on the container port', () => {
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [
        {
          CidrIp: '0.0.0.0/0',
          IpProtocol: 'tcp',
          FromPort: 443,
          ToPort: 443,
          Description: 'HTTPS to AWS APIs',
        },
      ],
    })
    t.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: networkImport('AlbSecurityGroup'),
      DestinationSecurityGroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] },
      FromPort: 8080,
      ToPort: 8080,
    })
  })

  it('runs the tasks in the app subnets without public IPs', () => {
    t.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: {
        AwsvpcConfiguration: {
          AssignPublicIp: 'DISABLED',
          Subnets: [networkImport('AppSubnet1'), networkImport('AppSubnet2')],
        },
      },
    })
  })
})

describe('ServiceStack: target group', () => {
  it('probes /readyz with explicit thresholds and interval', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetType: 'ip',
      Port: 8080,
      Protocol: 'HTTP',
      HealthCheckPath: '/readyz',
      HealthCheckIntervalSeconds: 10,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
    })
  })

  it('takes the deregistration delay, DRAIN_DELAY_S and the stop timeout from one settings object', () => {
    const settings = defineServingSettings({
      drainDelay: Duration.seconds(25),
      shutdownTimeout: Duration.seconds(50),
    })
    const custom = servingApp({ apps: [{ ...RESNET, settings }] })
    const tc = custom.template(custom.service)
    tc.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      TargetGroupAttributes: Match.arrayWith([
        { Key: 'deregistration_delay.timeout_seconds', Value: '25' },
      ]),
    })
    tc.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          StopTimeout: 55,
          Environment: Match.arrayWith([
            { Name: 'DRAIN_DELAY_S', Value: '25' },
            { Name: 'SHUTDOWN_TIMEOUT_S', Value: '50' },
          ]),
        }),
      ],
    })
  })

  it('routes every path to the app without a domain', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      ListenerArn: networkImport('AlbLoadBalancerListener'),
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
      Actions: [
        { Type: 'forward', TargetGroupArn: { Ref: logicalId(plain.service.service.targetGroup) } },
      ],
    })
    t.resourceCountIs('AWS::Route53::RecordSet', 0)
    t.hasOutput('ServiceUrl', {
      Value: { 'Fn::Join': ['', ['http://', networkImport('DNSName')]] },
    })
  })

  it('routes resnet.<zone> to the app with a domain, with an alias record to the ALB', () => {
    td.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['resnet.example.com'] } }],
    })
    td.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'resnet.example.com.',
      Type: 'A',
      HostedZoneId: DOMAIN.hostedZoneId,
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    })
    td.hasOutput('ServiceUrl', { Value: 'https://resnet.example.com' })
  })
})

describe('ServiceStack: model version', () => {
  it('serves <prefix><version>/ while the task role stays scoped to the prefix', () => {
    const rolled = servingApp({ apps: [{ ...RESNET, modelVersion: '2025-06-01' }] })
    const tr = rolled.template(rolled.service)
    const uri = { 'Fn::Join': ['', ['s3://', BUCKET_NAME, '/models/resnet/2025-06-01/']] }
    tr.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({ Environment: Match.arrayWith([{ Name: 'MODEL_URI', Value: uri }]) }),
      ],
    })
    tr.hasOutput('ModelUri', { Value: uri })
    tr.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Resource: { 'Fn::Join': ['', [BUCKET_ARN, '/models/resnet/*']] } }),
        ]),
      },
    })
  })

  it.each(['../other', '/abs', 'a//b'])('rejects the model version %j', (modelVersion) => {
    expect(() => servingApp({ apps: [{ ...RESNET, modelVersion }] })).toThrow(
      /modelVersion must be/
    )
  })
})

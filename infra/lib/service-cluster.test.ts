import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { RESNET, servingApp } from './test-support.js'

const spot = servingApp({ apps: [{ ...RESNET, capacity: { kind: 'fargate', spotWeight: 3 } }] })
const ts = spot.template(spot.service)
const ec2 = servingApp({
  apps: [{ ...RESNET, capacity: { kind: 'ec2', instanceType: 'c7i.xlarge', maxInstances: 6 } }],
})
const te = ec2.template(ec2.service)

describe('ServiceCluster: Fargate (default)', () => {
  it('uses the FARGATE launch type with no capacity provider strategy', () => {
    const plain = servingApp()
    const t = plain.template(plain.service)
    t.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: 'FARGATE',
      CapacityProviderStrategy: Match.absent(),
    })
  })
})

describe('ServiceCluster: Fargate Spot share', () => {
  it('keeps one on-demand task and spreads the rest 1:3 over FARGATE and FARGATE_SPOT', () => {
    ts.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: Match.absent(),
      CapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE', Base: 1, Weight: 1 },
        { CapacityProvider: 'FARGATE_SPOT', Weight: 3 },
      ],
    })
    ts.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', {
      CapacityProviders: Match.arrayWith(['FARGATE', 'FARGATE_SPOT']),
    })
  })
})

describe('ServiceCluster: EC2 Auto Scaling group capacity provider', () => {
  const providerId = Object.keys(te.findResources('AWS::ECS::CapacityProvider'))[0]

  it('adds a managed-scaling capacity provider over an Auto Scaling group of 0..6 instances', () => {
    te.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: '6',
      LaunchTemplate: Match.objectLike({ LaunchTemplateId: Match.anyValue() }),
    })
    te.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED' }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    })
  })

  it('launches encrypted, IMDSv2-only, monitored ECS-optimized instances', () => {
    te.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'c7i.xlarge',
        MetadataOptions: { HttpTokens: 'required' },
        Monitoring: { Enabled: true },
        BlockDeviceMappings: [
          { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 40, VolumeType: 'gp3' } },
        ],
        ImageId: { Ref: Match.stringLikeRegexp('amiamazonlinux2023') },
      }),
    })
  })

  it('runs the service on the provider with an EC2 task definition', () => {
    expect(providerId).toBeDefined()
    te.hasResourceProperties('AWS::ECS::Service', {
      LaunchType: Match.absent(),
      CapacityProviderStrategy: [{ CapacityProvider: { Ref: providerId }, Weight: 1 }],
      DeploymentConfiguration: Match.objectLike({
        DeploymentCircuitBreaker: { Enable: true, Rollback: true },
      }),
    })
    te.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['EC2'],
      NetworkMode: 'awsvpc',
      EphemeralStorage: Match.absent(),
    })
  })

  it('adds the ECS agent endpoints when tasks run on EC2 behind VPC endpoints only', () => {
    const app = servingApp({
      egress: 'vpc-endpoints',
      apps: [{ ...RESNET, capacity: { kind: 'ec2', instanceType: 'c7i.xlarge' } }],
    })
    const names = JSON.stringify(app.template(app.network).findResources('AWS::EC2::VPCEndpoint'))
    for (const service of ['ecs-agent', 'ecs-telemetry', '.ecs"']) expect(names).toContain(service)
  })
})

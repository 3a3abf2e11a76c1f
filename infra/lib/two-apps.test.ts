/** The tutorial's two hosts on one ALB: resnet.<domain> and catboost.<domain>, each its own app. */
import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { addServingStacks } from './serving-app.js'
import type { ModelAppConfig } from './serving-app.js'
import { defineServingSettings } from './serving-settings.js'
import { logicalId, nagApp, nagFindings, RESNET, servingApp } from './test-support.js'

const DOMAIN = { zoneName: 'example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' }
/** The catboost app as bin/app.ts defines it, with an ECR image. */
const CATBOOST: ModelAppConfig = {
  name: 'catboost',
  listenerPriority: 20,
  image: { kind: 'ecr', tag: 'test-sha' },
  settings: defineServingSettings({ maxQueue: 8192 }),
  batch: false,
}

const two = servingApp({ apps: [RESNET, CATBOOST], domain: DOMAIN })
const [resnet, catboost] = two.apps as [(typeof two.apps)[0], (typeof two.apps)[0]]

describe('two apps on the shared ALB', () => {
  it('adds a store and a service stack per app; catboost has no batch stack', () => {
    expect(two.app.node.children.map((c) => c.node.id)).toEqual([
      'model-serving-network',
      'resnet-model-store',
      'resnet-service',
      'resnet-batch',
      'catboost-model-store',
      'catboost-service',
    ])
    expect(catboost.batch).toBeUndefined()
  })

  it('routes each host to its own target group by its own listener rule', () => {
    for (const [app, host, priority] of [
      [resnet, 'resnet.example.com', 10],
      [catboost, 'catboost.example.com', 20],
    ] as const) {
      const t = two.template(app.service)
      t.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 1)
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: priority,
        Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [host] } }],
        Actions: [
          {
            Type: 'forward',
            TargetGroupArn: { Ref: logicalId(app.service.service.targetGroup) },
          },
        ],
      })
      t.hasResourceProperties('AWS::Route53::RecordSet', { Name: `${host}.`, Type: 'A' })
    }
  })

  it("lets each task role read only its own store's prefix", () => {
    for (const app of [resnet, catboost]) {
      const name = app.store.stackName.replace(/-model-store$/, '')
      const bucket = { 'Fn::ImportValue': `${name}-model-store:ModelBucketArn` }
      const role = app.service.task.taskDefinition.taskRole
      const t = two.template(app.service)
      const policies = t.findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: logicalId(role) }] },
      })
      const [policy, ...more] = Object.values(policies) as {
        Properties: { PolicyDocument: { Statement: unknown[] } }
      }[]
      expect(more).toHaveLength(0)
      expect(policy!.Properties.PolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: { 'Fn::Join': ['', [bucket, `/models/${name}/*`]] },
        },
        {
          Effect: 'Allow',
          Action: 's3:ListBucket',
          Resource: bucket,
          Condition: { StringLike: { 's3:prefix': [`models/${name}/`, `models/${name}/*`] } },
        },
      ])
    }
  })

  it('keeps the apps apart: catboost-service depends on nothing of resnet, and has its own scaling and alarms', () => {
    for (const app of [resnet, catboost]) two.template(app.service)
    expect(catboost.service.dependencies.map((s) => s.stackName).sort()).toEqual([
      'catboost-model-store',
      'model-serving-network',
    ])
    const t = two.template(catboost.service)
    t.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1)
    expect(Object.keys(t.findResources('AWS::CloudWatch::Alarm')).length).toBeGreaterThan(0)
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          Environment: Match.arrayWith([
            {
              Name: 'MODEL_URI',
              Value: Match.objectLike({
                'Fn::Join': ['', Match.arrayWith(['/models/catboost/'])],
              }),
            },
            { Name: 'MAX_QUEUE', Value: '8192' },
          ]),
        }),
      ],
    })
  })

  it('passes cdk-nag with both apps (each acknowledgement names its own prefix)', () => {
    const app = nagApp()
    addServingStacks(app, {
      apps: [RESNET, CATBOOST],
      domain: DOMAIN,
      env: { region: 'eu-west-1' },
    })
    const { paths, suppressed } = nagFindings(app)
    expect(paths).toEqual([])
    expect(suppressed).toContain(
      'AwsSolutions: AwsSolutions-IAM5[Resource::catboost-model-store:ModelBucketArn/models/catboost/*]'
    )
  })
})

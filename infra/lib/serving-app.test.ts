import { describe, expect, it } from 'vitest'
import { addServingStacks } from './serving-app.js'
import type { ServingAppConfig } from './serving-app.js'
import { nagApp, nagFindings, RESNET, servingApp, testApp } from './test-support.js'

const DOMAIN = { zoneName: 'example.com', hostedZoneId: 'Z0123456789ABCDEFGHIJ' }

/** The batch stack's acknowledged findings (lib/batch-acknowledgements.ts gives the reasons). */
const BATCH_ACKNOWLEDGED = [
  'AwsSolutions: AwsSolutions-ECS2',
  'AwsSolutions: AwsSolutions-IAM5[Resource::resnet-model-store:ModelBucketArn/models/resnet/*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::<DataBucketE6B0FAA8.Arn>/input/*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::<DataBucketE6B0FAA8.Arn>/output/*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::*]', // ecr:GetAuthorizationToken
  // the state machine's generated policies: X-Ray/Logs delivery/ecs:DescribeTasks, the plan, the
  // Distributed Map's child executions, RunTask of any task definition revision
  'AwsSolutions: AwsSolutions-IAM5[Resource::*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<DataBucketE6B0FAA8>/*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"JobStateMachineE2E0FF72"}]}]}:*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"JobStateMachineE2E0FF72"}]}]}/*:*]',
  'AwsSolutions: AwsSolutions-IAM5[Resource::arn:{"Fn::Select":[1,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}:{"Fn::Select":[2,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}:{"Fn::Select":[3,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}:{"Fn::Select":[4,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}:{"Fn::Select":[0,{"Fn::Split":["/",{"Fn::Select":[5,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}]}]}/{"Fn::Select":[1,{"Fn::Split":["/",{"Fn::Select":[5,{"Fn::Split":[":",{"Ref":"TaskDefinition21A4D618"}]}]}]}]}:*]',
]

/** The acknowledged findings every variant has, each with its reason in the code. */
const BASE_ACKNOWLEDGED = [
  'AwsSolutions: AwsSolutions-S1', // network log bucket is itself the log destination
  'AwsSolutions: AwsSolutions-EC23', // the public ALB's 80/443 ingress
  'AwsSolutions: AwsSolutions-IAM5[Resource::resnet-model-store:ModelBucketArn/models/resnet/*]',
  'AwsSolutions: AwsSolutions-ECS2', // non-secret env
  'AwsSolutions: AwsSolutions-IAM5[Resource::*]', // ecr:GetAuthorizationToken
  ...BATCH_ACKNOWLEDGED,
]

/** Synthesizes the app for `config` with cdk-nag, reporting instead of throwing. */
function nag(config: Partial<ServingAppConfig>) {
  const app = nagApp()
  addServingStacks(app, { apps: [RESNET], ...config })
  return nagFindings(app)
}

describe('addServingStacks', () => {
  const { app, network, store, service, apps, template } = servingApp()

  it('creates the shared network stack and a store and a service stack per app', () => {
    expect(app.node.children.map((c) => c.node.id)).toEqual([
      'model-serving-network',
      'resnet-model-store',
      'resnet-service',
      'resnet-batch',
    ])
    template(service) // cross-stack references (and so dependencies) are resolved at synth
    expect(service.dependencies.map((s) => s.stackName).sort()).toEqual([
      'model-serving-network',
      'resnet-model-store',
    ])
    expect(store.terminationProtection).toBe(true)
    expect(network.terminationProtection).toBe(false)
  })

  it('pins the logical IDs of the stateful resources in every stack', () => {
    const retained = (type: string) =>
      [network, store, service, apps[0]!.batch!].flatMap((stack) =>
        Object.keys(template(stack).findResources(type, { DeletionPolicy: 'Retain' })).map(
          (id) => `${stack.stackName}/${id}`
        )
      )
    expect([
      ...retained('AWS::S3::Bucket'),
      ...retained('AWS::ECR::Repository'),
      ...retained('AWS::Logs::LogGroup'),
    ]).toMatchInlineSnapshot(`
      [
        "model-serving-network/NetworkLogs71CCDE32",
        "resnet-model-store/ModelsAccessLogs3743BCAB",
        "resnet-model-store/ModelsBucket970C6ADA",
        "resnet-batch/DataAccessLogsC0C25EE4",
        "resnet-batch/DataBucketE6B0FAA8",
        "resnet-model-store/Images2D38C313",
        "resnet-service/TaskLogsA2B30BBC",
        "resnet-batch/TaskLogsA2B30BBC",
        "resnet-batch/JobLogsD3A1DDA2",
      ]
    `)
  })

  it('rejects bad app names and duplicate names or listener priorities, all at once', () => {
    const attempt = () =>
      addServingStacks(testApp(), {
        apps: [RESNET, { ...RESNET, name: 'Bad_Name' }, { ...RESNET, listenerPriority: 20 }],
      })
    expect(attempt).toThrow(/app name must match/)
    expect(attempt).toThrow(/listener priority 10 is used twice/)
    expect(attempt).toThrow(/app 'resnet' is defined twice/)
  })
})

describe('cdk-nag AwsSolutions on the whole app', () => {
  it('default (no domain, NAT, Fargate, env-agnostic): no unacknowledged findings', () => {
    const { paths, suppressed } = nag({})
    expect(paths).toEqual([])
    expect(suppressed.sort()).toEqual(
      [...BASE_ACKNOWLEDGED, 'AwsSolutions: AwsSolutions-ELB2'].sort()
    )
  })

  it('domain, region and Fargate Spot: ALB access logs are on, so ELB2 needs no acknowledgement', () => {
    const { paths, suppressed } = nag({
      domain: DOMAIN,
      env: { region: 'eu-west-1' },
      apps: [{ ...RESNET, capacity: { kind: 'fargate', spotWeight: 3 } }],
    })
    expect(paths).toEqual([])
    // with a region, the state machine's ARNs name it (and the partition)
    const placeholders = suppressed.map((f) =>
      f.replace('arn:aws:states:eu-west-1:', 'arn:<AWS::Partition>:states:<AWS::Region>:')
    )
    expect(placeholders.sort()).toEqual([...BASE_ACKNOWLEDGED].sort())
  })

  it('EC2 capacity behind VPC endpoints: only the reviewed instance-role findings are added', () => {
    const { paths, suppressed } = nag({
      egress: 'vpc-endpoints',
      apps: [{ ...RESNET, capacity: { kind: 'ec2', instanceType: 'c7i.xlarge' } }],
    })
    expect(paths).toEqual([])
    expect(suppressed.sort()).toEqual(
      [
        ...BASE_ACKNOWLEDGED,
        'AwsSolutions: AwsSolutions-ELB2',
        'AwsSolutions: AwsSolutions-AS3',
        'AwsSolutions: AwsSolutions-IAM5[Action::ecs:Submit*]',
        'AwsSolutions: AwsSolutions-IAM5[Resource::*]',
      ].sort()
    )
  })
})

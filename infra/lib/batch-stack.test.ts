import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { logicalId, RESNET, servingApp } from './test-support.js'

// One synth per variant, shared by the tests.
const plain = servingApp()
const batch = plain.apps[0]!.batch!
const t = plain.template(batch)
const onDemand = servingApp({
  apps: [{ ...RESNET, batch: { shardSize: 200, shardsPerTask: 2, maxTasks: 5, spot: false } }],
})
const td = onDemand.template(onDemand.apps[0]!.batch!)

const DATA = 'DataBucketE6B0FAA8'
const dataArn = (suffix: string) => ({
  'Fn::Join': ['', [{ 'Fn::GetAtt': [DATA, 'Arn'] }, suffix]],
})
const MODEL_ARN = { 'Fn::ImportValue': 'resnet-model-store:ModelBucketArn' }

/** The state machine's definition with its CloudFormation tokens flattened to text. */
function definitionOf(template: typeof t): string {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'))
  const parts = (machine!.Properties as { DefinitionString: { 'Fn::Join': [string, unknown[]] } })
    .DefinitionString['Fn::Join'][1]
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('')
}

describe('BatchStack: the task', () => {
  it('reads the model and the input prefix, and writes only under the output prefix', () => {
    const role = batch.task.taskDefinition.taskRole
    t.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(role) }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: [
              dataArn('/input/*'),
              dataArn('/output/*'),
              { 'Fn::Join': ['', [MODEL_ARN, '/models/resnet/*']] },
            ],
          },
          {
            Action: 's3:ListBucket',
            Resource: MODEL_ARN,
            Condition: { StringLike: { 's3:prefix': ['models/resnet/', 'models/resnet/*'] } },
          },
          {
            Action: 's3:ListBucket',
            Resource: { 'Fn::GetAtt': [DATA, 'Arn'] },
            Condition: { StringLike: { 's3:prefix': ['input/', 'input/*'] } },
          },
          {
            Action: 's3:ListBucket',
            Resource: { 'Fn::GetAtt': [DATA, 'Arn'] },
            Condition: { StringLike: { 's3:prefix': ['output/', 'output/*'] } },
          },
          {
            Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
            Resource: dataArn('/output/*'),
          },
        ],
      },
    })
    const text = JSON.stringify(t.findResources('AWS::IAM::Policy'))
    expect(text).not.toMatch(/s3:\*|s3:Delete|s3:Put[^O]/)
  })

  it('runs the app image with the batch command and the model of the service', () => {
    t.hasResourceProperties('AWS::ECS::TaskDefinition', {
      RequiresCompatibilities: ['FARGATE'],
      Cpu: '2048',
      Memory: '4096',
      ContainerDefinitions: [
        Match.objectLike({
          Name: 'Batch',
          Command: [
            'node',
            '--max-semi-space-size=16',
            '--initial-old-space-size=128',
            'dist/batch.js',
            '--help',
          ],
          Environment: Match.arrayWith([
            { Name: 'MODEL_CACHE_DIR', Value: '/var/cache/models' },
            { Name: 'INFERENCE_THREADS', Value: '2' },
          ]),
          Image: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
        }),
      ],
    })
  })

  it('has no ingress and reaches AWS APIs on 443 only', () => {
    expect(Object.keys(t.findResources('AWS::EC2::SecurityGroupIngress'))).toHaveLength(0)
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })],
    })
  })

  it('aborts the incomplete multipart uploads of killed tasks in the data bucket', () => {
    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } }),
        ]),
      },
      LoggingConfiguration: Match.anyValue(),
    })
  })
})

describe('BatchStack: the job (Step Functions Distributed Map over ECS RunTask .sync)', () => {
  const definition = definitionOf(t)

  it('plans in one task, then maps the plan in S3 to batches of shards, many tasks at once', () => {
    expect(definition).toContain(
      "States.Array('node', '--max-semi-space-size=16', '--initial-old-space-size=128', 'dist/batch.js', 'plan', '--input', $.input, '--output', $.output, '--shard-size', '500')"
    )
    expect(definition).toContain('"ItemReader":{"Resource":"arn:')
    expect(definition).toContain(':states:::s3:getObject","ReaderConfig":{"InputType":"JSON"}')
    expect(definition).toContain(`"Key.$":"States.Format('{}_plan/shards.json', $.outputKey)"`)
    expect(definition).toContain(
      '"ItemBatcher":{"MaxItemsPerBatch":20,"BatchInput":{"output.$":"$.output"}}'
    )
    expect(definition).toContain('"MaxConcurrency":20')
    expect(definition).toContain(
      "States.Array('node', '--max-semi-space-size=16', '--initial-old-space-size=128', 'dist/batch.js', 'work', '--output', $.BatchInput.output, '--shards', States.JsonToString($.Items))"
    )
    expect(definition.match(/ecs:runTask\.sync/g)).toHaveLength(2)
    expect(definition).toContain('"CapacityProvider":"FARGATE_SPOT"')
    // a task that fails (Spot interruption, crash) is retried: its done shards are skipped
    expect(definition).toContain('"ErrorEquals":["States.TaskFailed","ECS.AmazonECSException"]')
  })

  it('takes its shard size, batch, concurrency and capacity from the app settings', () => {
    const other = definitionOf(td)
    expect(other).toContain("'--shard-size', '200'")
    expect(other).toContain('"MaxItemsPerBatch":2')
    expect(other).toContain('"MaxConcurrency":5')
    expect(other).not.toContain('FARGATE_SPOT')
    expect(other).toContain('"LaunchType":"FARGATE"')
  })

  it('logs every execution event and traces with X-Ray', () => {
    t.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL' }),
      TracingConfiguration: { Enabled: true },
    })
  })

  it('prints the command that starts a job', () => {
    const outputs = t.findOutputs('StartJob')
    expect(JSON.stringify(outputs)).toContain(
      'aws stepfunctions start-execution --state-machine-arn'
    )
  })
})

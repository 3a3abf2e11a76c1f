import { readFileSync } from 'node:fs'
import { App, Duration, Stack } from 'aws-cdk-lib'
import type { CfnElement } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam'
import { describe, expect, it } from 'vitest'
import { ModelBucket } from './model-bucket.js'
import type { ModelBucketProps } from './model-bucket.js'

// Same feature flags as `cdk synth`.
const { context } = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>
}

function setUp(props?: ModelBucketProps) {
  const stack = new Stack(new App({ context }), 'Test')
  const models = new ModelBucket(stack, 'Models', props)
  const bucketId = stack.getLogicalId(models.bucket.node.defaultChild as CfnElement)
  return { stack, models, bucketId }
}

describe('ModelBucket', () => {
  it('grantReadPrefix allows GetObject under the prefix and ListBucket only for that prefix', () => {
    const { stack, models, bucketId } = setUp()
    const role = new Role(stack, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs-tasks.amazonaws.com'),
    })
    models.grantReadPrefix(role, 'models/resnet/')

    const bucketArn = { 'Fn::GetAtt': [bucketId, 'Arn'] }
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role.node.defaultChild as CfnElement) }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: { 'Fn::Join': ['', [bucketArn, '/models/resnet/*']] },
          },
          {
            Effect: 'Allow',
            Action: 's3:ListBucket',
            Resource: bucketArn,
            Condition: { StringLike: { 's3:prefix': ['models/resnet/', 'models/resnet/*'] } },
          },
        ],
      },
    })
  })

  it('uriFor renders s3://<bucket>/<prefix>', () => {
    const { stack, models, bucketId } = setUp()
    expect(stack.resolve(models.uriFor('models/resnet/'))).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: bucketId }, '/models/resnet/']],
    })
  })

  it.each(['', 'models/resnet', '/models/resnet/'])('rejects the prefix %j', (prefix) => {
    const { stack, models } = setUp()
    const role = new Role(stack, 'TaskRole', {
      assumedBy: new ServicePrincipal('ecs.amazonaws.com'),
    })
    expect(() => models.grantReadPrefix(role, prefix)).toThrow(/model prefix must be/)
    expect(() => models.uriFor(prefix)).toThrow(/model prefix must be/)
  })

  it('applies custom retention periods', () => {
    const { stack } = setUp({
      noncurrentVersionExpiration: Duration.days(7),
      accessLogRetention: Duration.days(14),
    })
    const template = Template.fromStack(stack)
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } })],
      },
    })
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 14 })] },
    })
  })
})

import { Stack } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import { describe, expect, it } from 'vitest'
import { ModelStoreStack } from './model-store-stack.js'
import { logicalId, nagApp, nagFindings, testApp } from './test-support.js'

const MODEL_PREFIX = 'models/resnet/'

// Same feature flags as `cdk synth`: several change the S3 templates (e.g. log delivery policy).
function synth() {
  const stack = new ModelStoreStack(testApp(), 'test-model-store', { modelPrefix: MODEL_PREFIX })
  return {
    stack,
    template: Template.fromStack(stack),
    modelBucketId: logicalId(stack.models.bucket),
    logBucketId: logicalId(stack.models.accessLogsBucket),
    repositoryId: logicalId(stack.repository),
  }
}

const publicAccessBlocked = {
  BlockPublicAcls: true,
  BlockPublicPolicy: true,
  IgnorePublicAcls: true,
  RestrictPublicBuckets: true,
}
const sseS3 = {
  ServerSideEncryptionConfiguration: [
    { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
  ],
}
const denyInsecureTransport = Match.objectLike({
  Effect: 'Deny',
  Action: 's3:*',
  Principal: { AWS: '*' },
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
})

describe('ModelStoreStack', () => {
  const { stack, template, modelBucketId, logBucketId, repositoryId } = synth()

  it('has exactly the model bucket, its access log bucket and the image repository, and no IAM', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2)
    template.resourceCountIs('AWS::S3::BucketPolicy', 2)
    template.resourceCountIs('AWS::ECR::Repository', 1)
    expect(template.findResources('AWS::IAM::Role')).toEqual({})
    expect(template.findResources('AWS::IAM::Policy')).toEqual({})
  })

  it('pins the logical IDs of the stateful resources', () => {
    // A changed ID means CloudFormation replaces the resource; the old one is orphaned (Retain).
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toMatchInlineSnapshot(`
      [
        "ModelsAccessLogs3743BCAB",
        "ModelsBucket970C6ADA",
      ]
    `)
    expect(Object.keys(template.findResources('AWS::ECR::Repository'))).toMatchInlineSnapshot(`
      [
        "Images2D38C313",
      ]
    `)
  })

  it('image repository: scanned on push, immutable tags, old images expire, retained', () => {
    template.hasResource('AWS::ECR::Repository', {
      Properties: {
        ImageScanningConfiguration: { ScanOnPush: true },
        ImageTagMutability: 'IMMUTABLE',
        LifecyclePolicy: { LifecyclePolicyText: Match.stringLikeRegexp('"countNumber":30') },
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    })
  })

  /** Logical IDs of the buckets whose resource definition matches `props` (deep partial match). */
  const bucketsMatching = (props: object) =>
    Object.keys(template.findResources('AWS::S3::Bucket', props))

  it('model bucket: versioned, SSE-S3, public access blocked, owner-enforced, retained', () => {
    expect(
      bucketsMatching({
        Properties: {
          VersioningConfiguration: { Status: 'Enabled' },
          BucketEncryption: sseS3,
          PublicAccessBlockConfiguration: publicAccessBlocked,
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      })
    ).toEqual([modelBucketId])
  })

  it('model bucket: server access logs go to the log bucket', () => {
    expect(
      bucketsMatching({
        Properties: {
          LoggingConfiguration: {
            DestinationBucketName: { Ref: logBucketId },
            LogFilePrefix: 'model-bucket/',
          },
        },
      })
    ).toEqual([modelBucketId])
  })

  it('model bucket: noncurrent versions expire after 30 days', () => {
    expect(
      bucketsMatching({
        Properties: {
          LifecycleConfiguration: {
            Rules: Match.arrayWith([
              Match.objectLike({
                Status: 'Enabled',
                NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              }),
            ]),
          },
        },
      })
    ).toEqual([modelBucketId])
  })

  it.each([
    ['model bucket', () => modelBucketId],
    ['log bucket', () => logBucketId],
  ])('%s policy denies requests without TLS', (_name, bucketId) => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId() },
      PolicyDocument: { Statement: Match.arrayWith([denyInsecureTransport]) },
    })
  })

  it('log bucket: SSE-S3, public access blocked, not logged itself, logs expire, retained', () => {
    expect(
      bucketsMatching({
        Properties: {
          BucketEncryption: sseS3,
          PublicAccessBlockConfiguration: publicAccessBlocked,
          OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
          LifecycleConfiguration: {
            Rules: [Match.objectLike({ Status: 'Enabled', ExpirationInDays: 90 })],
          },
          LoggingConfiguration: Match.absent(),
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      })
    ).toEqual([logBucketId])
  })

  it('log bucket: only S3 log delivery for the model bucket may write, by bucket policy', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logBucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:PutObject',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Condition: Match.objectLike({
              ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [modelBucketId, 'Arn'] } },
            }),
          }),
        ]),
      },
    })
  })

  it('outputs the bucket name, the model URI and the repository URI', () => {
    template.hasOutput('ModelBucketName', { Value: { Ref: modelBucketId } })
    template.hasOutput('ModelUri', {
      Value: { 'Fn::Join': ['', ['s3://', { Ref: modelBucketId }, `/${MODEL_PREFIX}`]] },
    })
    template.hasOutput('ImageRepositoryUri', {
      Value: Match.objectLike({
        'Fn::Join': Match.arrayWith([Match.arrayWith([{ Ref: repositoryId }])]),
      }),
    })
  })

  it('exports the bucket ARN and name under stable names for the service stacks', () => {
    expect(stack.exportNames).toEqual({
      bucketArn: 'test-model-store:ModelBucketArn',
      bucketName: 'test-model-store:ModelBucketName',
    })
    template.hasOutput('*', {
      Value: { 'Fn::GetAtt': [modelBucketId, 'Arn'] },
      Export: { Name: 'test-model-store:ModelBucketArn' },
    })
    template.hasOutput('*', {
      Value: { Ref: modelBucketId },
      Export: { Name: 'test-model-store:ModelBucketName' },
    })
  })
})

describe('cdk-nag AwsSolutions', () => {
  it('reports no findings, errors or warnings, and none are acknowledged', () => {
    // Report instead of throwing, so a failure lists every finding.
    const app = nagApp()
    new ModelStoreStack(app, 'test-model-store', { modelPrefix: MODEL_PREFIX })
    // Covers every plugin in the report: cdk-nag, CloudFormation validation, construct annotations.
    const { suppressed, paths } = nagFindings(app)
    expect(paths).toEqual([])
    expect(suppressed).toEqual([])
  })

  it('does flag a default bucket (the check above is not vacuous)', () => {
    const app = nagApp()
    new Bucket(new Stack(app, 'Bare'), 'Bucket')
    expect(nagFindings(app).violations).toEqual(
      expect.arrayContaining(['AwsSolutions: AwsSolutions-S1', 'AwsSolutions: AwsSolutions-S10'])
    )
  })
})

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { App, Stack, Validations } from 'aws-cdk-lib'
import type { CfnElement } from 'aws-cdk-lib'
import { Match, Template } from 'aws-cdk-lib/assertions'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import { AwsSolutionsChecks } from 'cdk-nag'
import { describe, expect, it } from 'vitest'
import { ModelStoreStack } from './model-store-stack.js'

// Same feature flags as `cdk synth`: several change the S3 templates (e.g. log delivery policy).
const { context } = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>
}
const MODEL_PREFIX = 'models/resnet/'

function synth() {
  const app = new App({ context })
  const stack = new ModelStoreStack(app, 'test-model-store', { modelPrefix: MODEL_PREFIX })
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as CfnElement)
  return {
    template: Template.fromStack(stack),
    modelBucketId: id(stack.models.bucket),
    logBucketId: id(stack.models.accessLogsBucket),
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
  const { template, modelBucketId, logBucketId } = synth()

  it('has exactly the model bucket and its access log bucket, and no IAM', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2)
    template.resourceCountIs('AWS::S3::BucketPolicy', 2)
    expect(template.findResources('AWS::IAM::Role')).toEqual({})
    expect(template.findResources('AWS::IAM::Policy')).toEqual({})
  })

  it('pins the logical IDs of the stateful resources', () => {
    // A changed ID means CloudFormation replaces the bucket; the old one is orphaned (Retain).
    expect(Object.keys(template.findResources('AWS::S3::Bucket'))).toMatchInlineSnapshot(`
      [
        "ModelsAccessLogs3743BCAB",
        "ModelsBucket970C6ADA",
      ]
    `)
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

  it('outputs the bucket name and the model URI', () => {
    template.hasOutput('ModelBucketName', { Value: { Ref: modelBucketId } })
    template.hasOutput('ModelUri', {
      Value: { 'Fn::Join': ['', ['s3://', { Ref: modelBucketId }, `/${MODEL_PREFIX}`]] },
    })
  })
})

/** The parts of cdk.out/validation-report.json read here. */
interface ValidationReport {
  pluginReports: {
    pluginName: string
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[]
    suppressedViolations?: { ruleName: string }[]
  }[]
}

/** Synthesizes `app` with cdk-nag AwsSolutions registered and returns every reported finding. */
function nagFindings(app: App) {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app))
  const report = JSON.parse(
    readFileSync(join(app.synth().directory, 'validation-report.json'), 'utf8')
  ) as ValidationReport
  const list = (kind: 'violations' | 'suppressedViolations') =>
    report.pluginReports.flatMap((r) =>
      (r[kind] ?? []).map((v) => `${r.pluginName}: ${v.ruleName}`)
    )
  const paths = report.pluginReports.flatMap((r) =>
    r.violations.flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`)
    )
  )
  return { violations: list('violations'), suppressed: list('suppressedViolations'), paths }
}

describe('cdk-nag AwsSolutions', () => {
  // Report instead of throwing, so a failure lists every finding.
  const reportOnly = { ...context, '@aws-cdk/core:failSynthOnValidationErrors': false }

  it('reports no findings, errors or warnings, and none are acknowledged', () => {
    const app = new App({ context: reportOnly })
    new ModelStoreStack(app, 'test-model-store', { modelPrefix: MODEL_PREFIX })
    // Covers every plugin in the report: cdk-nag, CloudFormation validation, construct annotations.
    const { suppressed, paths } = nagFindings(app)
    expect(paths).toEqual([])
    expect(suppressed).toEqual([])
  })

  it('does flag a default bucket (the check above is not vacuous)', () => {
    const app = new App({ context: reportOnly })
    new Bucket(new Stack(app, 'Bare'), 'Bucket')
    expect(nagFindings(app).violations).toEqual(
      expect.arrayContaining(['AwsSolutions: AwsSolutions-S1', 'AwsSolutions: AwsSolutions-S10'])
    )
  })
})

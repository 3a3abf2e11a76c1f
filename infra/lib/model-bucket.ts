/** The S3 bucket that holds model artifacts, plus the bucket that receives its access logs. */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib'
import { Grant } from 'aws-cdk-lib/aws-iam'
import type { IGrantable } from 'aws-cdk-lib/aws-iam'
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import { Construct } from 'constructs'

/** Options for {@link ModelBucket}. */
export interface ModelBucketProps {
  /**
   * How long a replaced or deleted model object version is kept before S3 expires it.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration
  /**
   * How long server access log objects are kept in the log bucket.
   * @default Duration.days(90)
   */
  readonly accessLogRetention?: Duration
}

/**
 * Versioned, SSE-S3 encrypted, TLS-only, private bucket for model artifacts, with server access
 * logs in a separate bucket. Both buckets are retained when the stack is deleted.
 *
 * @example
 * const models = new ModelBucket(this, 'Models')
 * models.grantReadPrefix(taskRole, 'models/resnet/') // GetObject + prefix-scoped ListBucket
 */
export class ModelBucket extends Construct {
  /** The model artifact bucket. */
  readonly bucket: Bucket
  /** The bucket receiving the model bucket's server access logs. */
  readonly accessLogsBucket: Bucket

  constructor(scope: Construct, id: string, props: ModelBucketProps = {}) {
    super(scope, id)

    // Not access-logged itself. cdk-nag 3's AwsSolutions-S1 counts a bucket that receives another
    // bucket's access logs in the same stack as compliant, so there is no finding to acknowledge
    // (model-store-stack.test.ts pins an empty report, suppressions included).
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED, // log delivery does not support SSE-KMS
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: props.accessLogRetention ?? Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    })

    this.bucket = new Bucket(this, 'Bucket', {
      versioned: true,
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'model-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
    })
  }

  /**
   * Lets `grantee` read only the objects under `prefix` (e.g. `models/resnet/`): `s3:GetObject` on
   * `<prefix>*`, and `s3:ListBucket` limited to that prefix by an `s3:prefix` condition.
   */
  grantReadPrefix(grantee: IGrantable, prefix: string): Grant {
    return grantPrefixRead(grantee, this.bucket, prefix)
  }

  /** The `s3://<bucket>/<prefix>` URI of `prefix` in the model bucket (a token until deploy). */
  uriFor(prefix: string): string {
    assertPrefix(prefix)
    return this.bucket.s3UrlForObject(prefix)
  }
}

/**
 * Lets `grantee` read only the objects under `prefix` of `bucket`: `s3:GetObject` on
 * `<prefix>*`, and `s3:ListBucket` limited to that prefix by an `s3:prefix` condition.
 * @example grantPrefixRead(taskRole, Bucket.fromBucketArn(this, 'Models', arn), 'models/resnet/')
 */
export function grantPrefixRead(grantee: IGrantable, bucket: IBucket, prefix: string): Grant {
  assertPrefix(prefix)
  const read = Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${prefix}*`)],
  })
  // The model loader lists a bundle with ListObjectsV2 Prefix=<prefix>; deeper prefixes too.
  const list = Grant.addToPrincipal({
    grantee,
    actions: ['s3:ListBucket'],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
  })
  return read.combine(list)
}

/** Throws unless `prefix` looks like `some/folder/`: no leading slash, a trailing slash. */
function assertPrefix(prefix: string): void {
  if (Token.isUnresolved(prefix)) return
  if (prefix.length === 0 || prefix.startsWith('/') || !prefix.endsWith('/')) {
    throw new Error(
      `model prefix must be a non-empty S3 key prefix without a leading '/' and ending in '/', got '${prefix}'`
    )
  }
}

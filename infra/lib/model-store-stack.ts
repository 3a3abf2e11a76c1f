/** The stateful stack of one model app: its model artifacts and container images, retained. */
import { CfnOutput, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import { Repository, TagMutability, TagStatus } from 'aws-cdk-lib/aws-ecr'
import { Bucket } from 'aws-cdk-lib/aws-s3'
import type { IBucket } from 'aws-cdk-lib/aws-s3'
import type { Construct } from 'constructs'
import { ModelBucket } from './model-bucket.js'

/** Options for {@link ModelStoreStack}. */
export interface ModelStoreStackProps extends StackProps {
  /** Key prefix of this app's model artifacts in the bucket, e.g. `models/resnet/`. */
  readonly modelPrefix: string
  /**
   * Tagged images the repository keeps; older ones expire (the service deploys a git SHA tag).
   * @default 30
   */
  readonly imagesToKeep?: number
}

/**
 * Holds the model artifact bucket and the app's ECR repository (both retained on deletion) and
 * outputs the bucket name, the model's `s3://` URI and the repository URI.
 *
 * @example
 * const store = new ModelStoreStack(app, 'resnet-model-store', { modelPrefix: 'models/resnet/' })
 * store.models.grantReadPrefix(taskRole, store.modelPrefix)
 */
export class ModelStoreStack extends Stack {
  /** The model bucket construct (bucket, access log bucket, grant helpers). */
  readonly models: ModelBucket
  /** Key prefix of this app's model artifacts, ending in `/`. */
  readonly modelPrefix: string
  /** `s3://<bucket>/<modelPrefix>` (a token until deploy). */
  readonly modelUri: string
  /** ECR repository for images pushed by CI (`docker push <uri>:<git sha>`). */
  readonly repository: Repository
  /** Stable export names of the bucket's ARN and name, imported by the service stacks. */
  readonly exportNames: { readonly bucketArn: string; readonly bucketName: string }

  constructor(scope: Construct, id: string, props: ModelStoreStackProps) {
    super(scope, id, props)

    this.models = new ModelBucket(this, 'Models')
    this.modelPrefix = props.modelPrefix
    this.modelUri = this.models.uriFor(props.modelPrefix)

    this.repository = new Repository(this, 'Images', {
      imageScanOnPush: true,
      // A tag names one build forever, so a deployed task definition always runs the same image.
      imageTagMutability: TagMutability.IMMUTABLE,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          description: 'drop untagged layers',
          tagStatus: TagStatus.UNTAGGED,
          maxImageAge: Duration.days(7),
        },
        {
          description: 'keep recent builds',
          tagStatus: TagStatus.ANY,
          maxImageCount: props.imagesToKeep ?? 30,
        },
      ],
    })

    // Stable names rather than CDK's generated ones: consumers' policies name them, and a
    // refactoring here cannot silently rename an export that a deployed service imports.
    this.exportNames = {
      bucketArn: `${this.stackName}:ModelBucketArn`,
      bucketName: `${this.stackName}:ModelBucketName`,
    }
    this.exportValue(this.models.bucket.bucketArn, { name: this.exportNames.bucketArn })
    this.exportValue(this.models.bucket.bucketName, { name: this.exportNames.bucketName })

    new CfnOutput(this, 'ModelBucketName', {
      description: 'Name of the S3 bucket holding model artifacts',
      value: this.models.bucket.bucketName,
    })
    new CfnOutput(this, 'ModelUri', {
      description: 'S3 URI of the model artifacts prefix',
      value: this.modelUri,
    })
    new CfnOutput(this, 'ImageRepositoryUri', {
      description: 'ECR repository for this app: docker push <uri>:<tag>',
      value: this.repository.repositoryUri,
    })
  }

  /** The model bucket in `scope` (another stack), imported through the stable export names. */
  importModelBucket(scope: Construct, id: string): IBucket {
    return Bucket.fromBucketAttributes(scope, id, {
      bucketArn: Fn.importValue(this.exportNames.bucketArn),
      bucketName: Fn.importValue(this.exportNames.bucketName),
    })
  }
}

/** The stateful stack: where model artifacts live. Kept apart from the (stateless) service. */
import { CfnOutput, Stack } from 'aws-cdk-lib'
import type { StackProps } from 'aws-cdk-lib'
import type { Construct } from 'constructs'
import { ModelBucket } from './model-bucket.js'

/** Options for {@link ModelStoreStack}. */
export interface ModelStoreStackProps extends StackProps {
  /** Key prefix of this app's model artifacts in the bucket, e.g. `models/resnet/`. */
  readonly modelPrefix: string
}

/**
 * Holds the model artifact bucket and outputs its name and the model's `s3://` URI.
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

  constructor(scope: Construct, id: string, props: ModelStoreStackProps) {
    super(scope, id, props)

    this.models = new ModelBucket(this, 'Models')
    this.modelPrefix = props.modelPrefix
    this.modelUri = this.models.uriFor(props.modelPrefix)

    new CfnOutput(this, 'ModelBucketName', {
      description: 'Name of the S3 bucket holding model artifacts',
      value: this.models.bucket.bucketName,
    })
    new CfnOutput(this, 'ModelUri', {
      description: 'S3 URI of the model artifacts prefix',
      value: this.modelUri,
    })
  }
}

/** CDK entry point: the only place that reads context or environment. Stacks stay env-agnostic. */
import { App, Validations } from 'aws-cdk-lib'
import { AwsSolutionsChecks } from 'cdk-nag'
import { ModelStoreStack } from '../lib/model-store-stack.js'

const app = new App()

/** Reads a string context value (`cdk synth -c key=value` or cdk.json), else `fallback`. */
function stringContext(key: string, fallback: string): string {
  const value: unknown = app.node.tryGetContext(key)
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.length === 0) {
    throw new Error(`context '${key}' must be a non-empty string, got ${JSON.stringify(value)}`)
  }
  return value
}

const appName = stringContext('appName', 'resnet')
if (!/^[a-z][a-z0-9-]{0,39}$/.test(appName)) {
  throw new Error(`context 'appName' must match /^[a-z][a-z0-9-]{0,39}$/, got '${appName}'`)
}
const modelPrefix = stringContext('modelPrefix', `models/${appName}/`)

new ModelStoreStack(app, `${appName}-model-store`, {
  description: `Model artifact bucket for ${appName}`,
  modelPrefix,
  tags: { app: appName },
})

// cdk-nag v3 is a policy validation plugin: unacknowledged findings fail `cdk synth`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app))

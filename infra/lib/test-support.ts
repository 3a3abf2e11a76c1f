/** Test helpers: apps with cdk.json's feature flags, cached templates, and cdk-nag reports. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { App, Validations } from 'aws-cdk-lib'
import type { CfnElement, Stack } from 'aws-cdk-lib'
import { Template } from 'aws-cdk-lib/assertions'
import { AwsSolutionsChecks } from 'cdk-nag'
import type { IConstruct } from 'constructs'
import { addServingStacks } from './serving-app.js'
import type { ModelAppConfig, ServingAppConfig } from './serving-app.js'

/** cdk.json's context (feature flags): tests see the same templates as `cdk synth`. */
export const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>
  }
).context

/**
 * A fresh App with cdk.json's context plus `extra`. CDK's built-in CloudFormation validation
 * (a WASM rule engine, ~2-4 s per synth) runs only when `validate` is set: the cdk-nag tests
 * set it, the template assertions do not need it.
 */
export function testApp(extra: Record<string, unknown> = {}, validate = false): App {
  return new App({
    context: { ...CDK_CONTEXT, ...extra },
    builtinCloudFormationValidation: validate,
  })
}

/** The resnet app as bin/app.ts defines it, but with an ECR image (no Docker asset to stage). */
export const RESNET: ModelAppConfig = {
  name: 'resnet',
  listenerPriority: 10,
  image: { kind: 'ecr', tag: 'test-sha' },
}

/** The whole serving app for `config`, with the stacks' templates synthesized on first use. */
export function servingApp(config: Partial<ServingAppConfig> = {}, context = {}) {
  const app = testApp(context)
  const stacks = addServingStacks(app, { apps: [RESNET], ...config })
  const cache = new Map<Stack, Template>()
  const template = (stack: Stack): Template => {
    const cached = cache.get(stack) ?? Template.fromStack(stack)
    cache.set(stack, cached)
    return cached
  }
  const first = stacks.apps[0]!
  return { app, ...stacks, store: first.store, service: first.service, template }
}

/** The logical ID of `construct`'s CloudFormation resource. */
export function logicalId(construct: IConstruct): string {
  const resource = construct.node.defaultChild as CfnElement
  return resource.stack.getLogicalId(resource)
}

/** The parts of cdk.out/validation-report.json read here. */
interface ValidationReport {
  pluginReports: {
    pluginName: string
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[]
    suppressedViolations?: { ruleName: string; violatingConstructs?: { constructPath: string }[] }[]
  }[]
}

/** Context that makes a validation failure a report instead of an exception. */
export const REPORT_ONLY = { '@aws-cdk/core:failSynthOnValidationErrors': false }

/** An App for {@link nagFindings}: reports instead of throwing, CloudFormation validation on. */
export function nagApp(): App {
  return testApp(REPORT_ONLY, true)
}

/**
 * Registers cdk-nag AwsSolutions on `app` (from {@link nagApp}), synthesizes it and
 * returns every finding: `violations` and `suppressed` as `<plugin>: <rule>`, and `paths` as
 * `<rule> <construct path>` for the unacknowledged ones (every plugin in the report).
 */
export function nagFindings(app: App) {
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

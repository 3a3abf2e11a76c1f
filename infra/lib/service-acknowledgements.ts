/** cdk-nag acknowledgements for a service stack, each with the reason it is acceptable. */
import type { ModelStoreStack } from './model-store-stack.js'
import type { ModelTask } from './model-task.js'
import { acknowledge } from './nag.js'

/**
 * Acknowledges the reviewed AwsSolutions findings of one app's task. Each IAM5 finding is
 * acknowledged by its exact resource, so a new wildcard still fails the synth.
 * @example acknowledgeTaskFindings(task, store)
 */
export function acknowledgeTaskFindings(task: ModelTask, store: ModelStoreStack): void {
  const { taskDefinition } = task
  acknowledge(
    taskDefinition,
    'ECS2',
    'The environment holds only non-secret settings (port, model URI, timings, thread and queue sizes); AWS credentials come from the task role, and there are no secrets.'
  )
  acknowledge(
    taskDefinition.taskRole,
    `IAM5[Resource::${store.exportNames.bucketArn}/${store.modelPrefix}*]`,
    `s3:GetObject on the app's own model prefix (${store.modelPrefix}*): the bundle's file names and version folders are not known at deploy time. ListBucket is limited to the same prefix by condition.`
  )
  const executionRole = taskDefinition.executionRole
  if (executionRole) {
    acknowledge(
      executionRole,
      'IAM5[Resource::*]',
      'ecr:GetAuthorizationToken has no resource-level permissions: AWS requires Resource "*". Image pulls themselves are limited to the app\'s repository.'
    )
  }
}

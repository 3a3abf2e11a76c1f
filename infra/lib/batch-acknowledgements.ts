/** cdk-nag acknowledgements for a batch stack, each with the reason it is acceptable. */
import { Token } from 'aws-cdk-lib'
import type { CfnElement } from 'aws-cdk-lib'
import type { BatchStack } from './batch-stack.js'
import { BATCH_PREFIXES } from './batch-stack.js'
import type { ModelStoreStack } from './model-store-stack.js'
import { acknowledge } from './nag.js'

/**
 * Acknowledges the reviewed AwsSolutions findings of one app's batch stack. The task's IAM5
 * findings are acknowledged by their exact resources, so a new wildcard still fails the synth.
 */
export function acknowledgeBatchFindings(stack: BatchStack, store: ModelStoreStack): void {
  const { taskDefinition } = stack.task
  acknowledge(
    taskDefinition,
    'ECS2',
    'The environment holds only non-secret settings (model URI, cache dir, threads, region); there are no secrets.'
  )
  const role = taskDefinition.taskRole
  acknowledge(
    role,
    `IAM5[Resource::${store.exportNames.bucketArn}/${store.modelPrefix}*]`,
    `s3:GetObject on the app's own model prefix (${store.modelPrefix}*), as the service's task.`
  )
  const data = stack.getLogicalId(stack.data.bucket.node.defaultChild as CfnElement)
  acknowledge(
    role,
    `IAM5[Resource::<${data}.Arn>/${BATCH_PREFIXES.input}*]`,
    'GetObject on the input prefix: the images to classify are not known at deploy time.'
  )
  acknowledge(
    role,
    `IAM5[Resource::<${data}.Arn>/${BATCH_PREFIXES.output}*]`,
    'Get/PutObject (and AbortMultipartUpload) on the output prefix only: the plan and one results object per shard, named per job at run time.'
  )
  acknowledge(
    taskDefinition.obtainExecutionRole(),
    'IAM5[Resource::*]',
    'ecr:GetAuthorizationToken has no resource-level permissions: AWS requires Resource "*". Image pulls themselves are limited to the app\'s repository.'
  )
  acknowledgeStateMachineFindings(stack)
}

/** `Fn::Select` of part `i` of `ref` split at `sep`, as cdk-nag prints it. */
const part = (i: number, sep: string, of: string): string =>
  `{"Fn::Select":[${i},{"Fn::Split":["${sep}",${of}]}]}`

/** The findings on the policies CDK generates for the state machine's own integrations. */
function acknowledgeStateMachineFindings(stack: BatchStack): void {
  const { stateMachine } = stack.job
  const id = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as CfnElement)
  const td = `{"Ref":"${id(stack.task.taskDefinition)}"}`
  const family = part(5, ':', td)
  const taskDefinitionArn = `arn:${[1, 2, 3, 4].map((i) => part(i, ':', td)).join(':')}:${part(0, '/', family)}/${part(1, '/', family)}`
  // how cdk-nag prints a pseudo parameter: its value when the stack has one, else its name
  const pseudo = (value: string, name: string) =>
    Token.isUnresolved(value) ? `<AWS::${name}>` : value
  const arnPrefix = [
    `arn:${pseudo(stack.partition, 'Partition')}`,
    'states',
    pseudo(stack.region, 'Region'),
    pseudo(stack.account, 'AccountId'),
  ].join(':')
  const executions = `${arnPrefix}:execution:${part(6, ':', `{"Ref":"${id(stateMachine)}"}`)}`
  const findings: [string, string][] = [
    [
      `${taskDefinitionArn}:*`,
      'ecs:RunTask of the batch task definition, any revision (CDK grants family:*).',
    ],
    [
      `arn:<AWS::Partition>:s3:::<${id(stack.data.bucket)}>/*`,
      "The Distributed Map's item reader gets the plan (shards.json) from the data bucket; the job folder is named per execution.",
    ],
    [`${executions}:*`, "The Distributed Map's own child executions (their names are generated)."],
    [
      `${executions}/*:*`,
      "The Distributed Map's own child executions (their names are generated).",
    ],
    [
      '*',
      'ecs:DescribeTasks/StopTask (the .sync integration polls and stops the tasks it started), X-Ray tracing and CloudWatch Logs delivery actions: CDK grants them on Resource "*".',
    ],
  ]
  for (const [resource, reason] of findings) {
    acknowledge(stateMachine, `IAM5[Resource::${resource}]`, reason)
  }
}

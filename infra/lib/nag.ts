/** cdk-nag acknowledgements: one place that spells the AwsSolutions rule ids. */
import { Validations } from 'aws-cdk-lib'
import type { IConstruct } from 'constructs'

/**
 * Acknowledges the cdk-nag AwsSolutions finding `rule` (e.g. `'ELB2'`, or `'IAM5[Resource::*]'`
 * for one IAM5 finding) on `scope` and its children, with the reason it is acceptable here.
 * @example acknowledge(alb.securityGroup, 'EC23', 'Internet-facing ALB: open on 80/443 only.')
 */
export function acknowledge(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason })
}

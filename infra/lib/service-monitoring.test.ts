import { Match } from 'aws-cdk-lib/assertions'
import { describe, expect, it } from 'vitest'
import { logicalId, servingApp } from './test-support.js'

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:on-call'

const { service, template } = servingApp({ alarmTopicArn: TOPIC })
const t = template(service)

/** Logical IDs of the alarms whose properties match `props`. */
const alarmsMatching = (props: Record<string, unknown>) =>
  Object.keys(t.findResources('AWS::CloudWatch::Alarm', { Properties: props }))

describe('ServiceMonitoring', () => {
  const m = service.monitoring
  const metric = (id: string, name: string) =>
    Match.objectLike({
      Id: id,
      MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: name }), Stat: 'Sum' }),
    })

  it('alarms when target 5xx exceed 5% of requests', () => {
    expect(
      alarmsMatching({
        Threshold: 5,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 5,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({ Expression: 'IF(requests > 0, 100 * errors / requests, 0)' }),
          metric('requests', 'RequestCount'),
          metric('errors', 'HTTPCode_Target_5XX_Count'),
        ]),
      })
    ).toEqual([logicalId(m.errorRateAlarm)])
  })

  it('alarms when the p99 target response time exceeds 2 s', () => {
    expect(
      alarmsMatching({
        MetricName: 'TargetResponseTime',
        Namespace: 'AWS/ApplicationELB',
        ExtendedStatistic: 'p99',
        Threshold: 2,
        ComparisonOperator: 'GreaterThanThreshold',
      })
    ).toEqual([logicalId(m.latencyAlarm)])
  })

  it('alarms on any unhealthy target for 3 minutes', () => {
    expect(
      alarmsMatching({
        MetricName: 'UnHealthyHostCount',
        Statistic: 'Maximum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 3,
      })
    ).toEqual([logicalId(m.unhealthyHostsAlarm)])
  })

  it('alarms when fewer tasks than the minimum run, and when none report', () => {
    expect(
      alarmsMatching({
        Namespace: 'ECS/ContainerInsights',
        MetricName: 'RunningTaskCount',
        Threshold: 2,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        Dimensions: Match.arrayWith([
          { Name: 'ClusterName', Value: { Ref: logicalId(service.cluster.cluster) } },
        ]),
      })
    ).toEqual([logicalId(m.runningTasksAlarm)])
  })

  it('notifies the on-call topic when any alarm fires or clears', () => {
    t.resourceCountIs('AWS::CloudWatch::Alarm', 4)
    t.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [TOPIC],
      OKActions: [TOPIC],
    })
  })

  it('has a dashboard with the alarms, traffic, latency, targets and utilisation', () => {
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1)
    const body = JSON.stringify(t.findResources('AWS::CloudWatch::Dashboard'))
    for (const title of [
      'Alarms',
      'Requests and target 5xx (%)',
      'Target response time',
      'Targets (/readyz)',
      'CPU and memory (%)',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`)
    }
  })

  it('enables Container Insights, which the running-task alarm reads', () => {
    t.hasResourceProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    })
  })

  it('outputs the service URL, bucket name, model URI and ECR repository', () => {
    for (const name of ['ServiceUrl', 'ModelBucketName', 'ModelUri', 'ImageRepositoryUri']) {
      t.hasOutput(name, { Value: Match.anyValue() })
    }
    t.hasOutput('ModelBucketName', {
      Value: { 'Fn::ImportValue': 'resnet-model-store:ModelBucketName' },
    })
  })
})

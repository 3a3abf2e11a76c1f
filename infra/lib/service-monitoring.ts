/** CloudWatch alarms and a dashboard for one model app: errors, latency, health and task count. */
import { Duration } from 'aws-cdk-lib'
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch'
import type { CreateAlarmOptions, IAlarmAction, IMetric } from 'aws-cdk-lib/aws-cloudwatch'
import type { BaseService } from 'aws-cdk-lib/aws-ecs'
import { HttpCodeTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import type { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2'
import { Construct } from 'constructs'

/** Alarm thresholds. */
export interface AlarmSettings {
  /** Target 5xx responses as a percentage of requests. */
  readonly max5xxPercent: number
  /** Target response time, p99. */
  readonly maxP99Latency: Duration
}

/** 5% errors; 2 s p99 (ResNet-50 takes ~20 ms per image, so 2 s means deep queueing). */
export const DEFAULT_ALARMS: AlarmSettings = Object.freeze({
  max5xxPercent: 5,
  maxP99Latency: Duration.seconds(2),
})

/** Options for {@link ServiceMonitoring}. */
export interface ServiceMonitoringProps {
  readonly service: BaseService
  readonly targetGroup: ApplicationTargetGroup
  /** Alarm when fewer tasks than this run. */
  readonly minTasks: number
  /** @default DEFAULT_ALARMS */
  readonly thresholds?: AlarmSettings
  /**
   * What an alarm does, e.g. an `SnsAction` on the on-call topic.
   * @default - no action: alarm state is visible on the dashboard only
   */
  readonly alarmActions?: IAlarmAction[]
}

const PERIOD = Duration.minutes(1)

/**
 * Four alarms (5xx rate, p99 latency, unhealthy targets, running tasks) and a dashboard.
 *
 * @example
 * new ServiceMonitoring(this, 'Monitoring', { service, targetGroup, minTasks: 2,
 *   alarmActions: [new SnsAction(topic)] })
 */
export class ServiceMonitoring extends Construct {
  /** Target 5xx responses above the threshold percentage of requests. */
  readonly errorRateAlarm: Alarm
  /** p99 target response time above the threshold. */
  readonly latencyAlarm: Alarm
  /** At least one target failing the `/readyz` health check. */
  readonly unhealthyHostsAlarm: Alarm
  /** Fewer running tasks than the scaling minimum (Container Insights). */
  readonly runningTasksAlarm: Alarm
  /** The dashboard. */
  readonly dashboard: Dashboard

  constructor(scope: Construct, id: string, props: ServiceMonitoringProps) {
    super(scope, id)
    const limits = props.thresholds ?? DEFAULT_ALARMS
    const m = serviceMetrics(props.service, props.targetGroup)
    const alarm = (name: string, metric: IMetric, opts: CreateAlarmOptions): Alarm => {
      const created = new Alarm(this, name, { metric, ...opts })
      for (const action of props.alarmActions ?? []) {
        created.addAlarmAction(action)
        created.addOkAction(action)
      }
      return created
    }
    this.errorRateAlarm = alarm('Http5xxRate', m.errorRate, {
      alarmDescription: `Target 5xx responses above ${limits.max5xxPercent}% of requests`,
      threshold: limits.max5xxPercent,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    })
    this.latencyAlarm = alarm('P99Latency', m.p99, {
      alarmDescription: `p99 target response time above ${limits.maxP99Latency.toSeconds()} s`,
      threshold: limits.maxP99Latency.toSeconds({ integral: false }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    })
    this.unhealthyHostsAlarm = alarm('UnhealthyTargets', m.unhealthy, {
      alarmDescription: 'A target has failed the /readyz health check for 3 minutes',
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    })
    this.runningTasksAlarm = alarm('RunningTasks', m.running, {
      alarmDescription: `Fewer than ${props.minTasks} tasks running for 3 minutes`,
      threshold: props.minTasks,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      // No data means no task reports at all.
      treatMissingData: TreatMissingData.BREACHING,
    })
    this.dashboard = this.createDashboard(m)
  }

  private createDashboard(m: ServiceMetrics): Dashboard {
    const alarms = [
      this.errorRateAlarm,
      this.latencyAlarm,
      this.unhealthyHostsAlarm,
      this.runningTasksAlarm,
    ]
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 })
    const dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) })
    dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms, width: 24, height: 3 }))
    dashboard.addWidgets(
      graph('Requests and target 5xx (%)', [m.requests], [m.errorRate]),
      graph('Target response time', [m.p50, m.p99])
    )
    dashboard.addWidgets(
      graph('Targets (/readyz)', [m.healthy, m.unhealthy], [m.running]),
      graph('CPU and memory (%)', [m.cpu, m.memory])
    )
    return dashboard
  }
}

/** The one-minute metrics the alarms and the dashboard read. */
function serviceMetrics(service: BaseService, tg: ApplicationTargetGroup) {
  const tgMetrics = tg.metrics
  const requests = tgMetrics.requestCount({ period: PERIOD, statistic: 'Sum' })
  const errors = tgMetrics.httpCodeTarget(HttpCodeTarget.TARGET_5XX_COUNT, {
    period: PERIOD,
    statistic: 'Sum',
  })
  return {
    requests,
    errorRate: new MathExpression({
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors },
      period: PERIOD,
      label: 'Target 5xx (%)',
    }),
    p50: tgMetrics.targetResponseTime({ period: PERIOD, statistic: 'p50' }),
    p99: tgMetrics.targetResponseTime({ period: PERIOD, statistic: 'p99' }),
    unhealthy: tgMetrics.unhealthyHostCount({ period: PERIOD, statistic: 'Maximum' }),
    healthy: tgMetrics.healthyHostCount({ period: PERIOD, statistic: 'Minimum' }),
    running: new Metric({
      namespace: 'ECS/ContainerInsights',
      metricName: 'RunningTaskCount',
      dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
      period: PERIOD,
      statistic: 'Minimum',
    }),
    cpu: service.metricCpuUtilization({ period: PERIOD }),
    memory: service.metricMemoryUtilization({ period: PERIOD }),
  }
}

type ServiceMetrics = ReturnType<typeof serviceMetrics>

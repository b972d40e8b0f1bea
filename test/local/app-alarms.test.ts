import { describe, expect, it } from 'vitest';
import { type AlarmSpec, evaluateAlarm, UnsupportedAlarmError } from '../../cli/local/app/alarms.ts';
import { captureEmf, datapointsOfEmf, MetricStore } from '../../cli/local/app/metrics.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-02T00:00:00Z');

function successAlarm(overrides: Partial<AlarmSpec> = {}): AlarmSpec {
  return {
    logicalId: 'NoRecentSuccess',
    Namespace: 'SfBackup',
    MetricName: 'BackupSucceeded',
    Dimensions: [
      { Name: 'org', Value: 'acme' },
      { Name: 'kind', Value: 'data' },
    ],
    Statistic: 'Sum',
    Period: 3600,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    ComparisonOperator: 'LessThanThreshold',
    Threshold: 1,
    TreatMissingData: 'breaching',
    ...overrides,
  };
}

function success(store: MetricStore, at: number, value = 1, kind = 'data') {
  store.put({
    namespace: 'SfBackup',
    name: 'BackupSucceeded',
    dimensions: { kind, org: 'acme' },
    timestamp: at,
    value,
  });
}

describe('alarm evaluation', () => {
  it('alarms once every evaluated period breaches, missing data counted as breaching', () => {
    const store = new MetricStore();
    success(store, T0 + 30 * 60_000);
    expect(evaluateAlarm(successAlarm(), store, T0 + 3 * HOUR, 'OK').state).toBe('OK');
    expect(evaluateAlarm(successAlarm(), store, T0 + 4 * HOUR, 'OK')).toEqual({
      state: 'ALARM',
      values: [undefined, undefined, undefined],
      breaching: 3,
    });
  });

  it('reads only the metric with exactly the alarm dimensions', () => {
    const store = new MetricStore();
    success(store, T0 + 3.5 * HOUR, 1, 'metadata');
    expect(evaluateAlarm(successAlarm(), store, T0 + 4 * HOUR, 'OK').state).toBe('ALARM');
  });

  it('alarms on M of N breaching periods', () => {
    const store = new MetricStore();
    success(store, T0 + 1.5 * HOUR, 0);
    success(store, T0 + 2.5 * HOUR, 1);
    success(store, T0 + 3.5 * HOUR, 0);
    const spec = successAlarm({ DatapointsToAlarm: 2, TreatMissingData: 'notBreaching' });
    expect(evaluateAlarm(spec, store, T0 + 4 * HOUR, 'OK').state).toBe('ALARM');
    expect(evaluateAlarm({ ...spec, DatapointsToAlarm: 3 }, store, T0 + 4 * HOUR, 'OK').state).toBe('OK');
  });

  it('treats missing data as missing (insufficient data), ignore (state kept) or not breaching', () => {
    const store = new MetricStore();
    const at = T0 + 4 * HOUR;
    expect(evaluateAlarm(successAlarm({ TreatMissingData: 'missing' }), store, at, 'OK').state).toBe(
      'INSUFFICIENT_DATA',
    );
    expect(evaluateAlarm(successAlarm({ TreatMissingData: undefined }), store, at, 'OK').state).toBe(
      'INSUFFICIENT_DATA',
    );
    expect(evaluateAlarm(successAlarm({ TreatMissingData: 'ignore' }), store, at, 'ALARM').state).toBe(
      'ALARM',
    );
    expect(evaluateAlarm(successAlarm({ TreatMissingData: 'notBreaching' }), store, at, 'ALARM').state).toBe(
      'OK',
    );
  });

  it('applies the statistic over each period', () => {
    const store = new MetricStore();
    const depth = (at: number, value: number) =>
      store.put({
        namespace: 'AWS/SQS',
        name: 'Depth',
        dimensions: { QueueName: 'q' },
        timestamp: at,
        value,
      });
    depth(T0 + 60_000, 0);
    depth(T0 + 120_000, 2);
    const spec: AlarmSpec = {
      logicalId: 'Depth',
      Namespace: 'AWS/SQS',
      MetricName: 'Depth',
      Dimensions: [{ Name: 'QueueName', Value: 'q' }],
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    };
    expect(evaluateAlarm(spec, store, T0 + 300_000, 'OK').state).toBe('ALARM');
    expect(
      evaluateAlarm({ ...spec, Statistic: 'Average', Threshold: 1.5 }, store, T0 + 300_000, 'OK').state,
    ).toBe('OK');
    expect(
      evaluateAlarm({ ...spec, Statistic: 'SampleCount', Threshold: 2 }, store, T0 + 300_000, 'OK').state,
    ).toBe('ALARM');
  });

  it('refuses an alarm it cannot evaluate faithfully, by name', () => {
    const store = new MetricStore();
    expect(() => evaluateAlarm(successAlarm({ Metrics: [{}] }), store, T0, 'OK')).toThrow(
      UnsupportedAlarmError,
    );
    expect(() =>
      evaluateAlarm(successAlarm({ Statistic: undefined, ExtendedStatistic: 'p99' }), store, T0, 'OK'),
    ).toThrow('Alarm NoRecentSuccess uses the percentile statistic p99');
    expect(() =>
      evaluateAlarm(successAlarm({ ComparisonOperator: 'LessThanLowerThreshold' }), store, T0, 'OK'),
    ).toThrow('compares with LessThanLowerThreshold');
  });
});

describe('alarms on the sum of several metrics', () => {
  /** The function error alarm of a workflow of two functions, as the app synthesizes it. */
  function errorsAlarm(expression = 'SUM(FILL(METRICS(), 0))'): AlarmSpec {
    const errors = (id: string, fn: string) => ({
      Id: id,
      MetricStat: {
        Metric: {
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: fn }],
        },
        Period: 300,
        Stat: 'Sum',
      },
      ReturnData: false,
    });
    return {
      logicalId: 'BackupFunctionErrors',
      Metrics: [{ Id: 'expr_1', Expression: expression }, errors('e1', 'plan'), errors('e2', 'export')],
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    };
  }

  function errorOf(store: MetricStore, fn: string, at: number, value: number) {
    store.put({
      namespace: 'AWS/Lambda',
      name: 'Errors',
      dimensions: { FunctionName: fn },
      timestamp: at,
      value,
    });
  }

  it('alarms when any one of the metrics breaches, a metric without data adding nothing', () => {
    // GIVEN no errors in the first period, then one error of one function only
    const store = new MetricStore();
    errorOf(store, 'plan', T0 + 60_000, 0);
    errorOf(store, 'export', T0 + 360_000, 1);
    // WHEN evaluated at the end of each period THEN the first is OK and the second in ALARM
    const first = evaluateAlarm(errorsAlarm(), store, T0 + 300_000, 'INSUFFICIENT_DATA');
    expect(first).toMatchObject({ state: 'OK', values: [0] });
    const second = evaluateAlarm(errorsAlarm(), store, T0 + 600_000, 'OK');
    expect(second).toMatchObject({ state: 'ALARM', values: [1] });
    // AND a period in which neither function reported is missing data, which does not breach
    expect(evaluateAlarm(errorsAlarm(), store, T0 + 900_000, 'ALARM')).toMatchObject({
      state: 'OK',
      values: [undefined],
    });
  });

  it('adds the errors of several functions in one period', () => {
    const store = new MetricStore();
    errorOf(store, 'plan', T0 + 10_000, 1);
    errorOf(store, 'export', T0 + 20_000, 2);
    const spec = { ...errorsAlarm('SUM(METRICS())'), Threshold: 3 };
    expect(evaluateAlarm(spec, store, T0 + 300_000, 'OK')).toMatchObject({ state: 'ALARM', values: [3] });
  });

  it('refuses any other expression by name', () => {
    expect(() => evaluateAlarm(errorsAlarm('MAX(METRICS())'), new MetricStore(), T0, 'OK')).toThrow(
      'Alarm BackupFunctionErrors uses the metric math expression MAX(METRICS())',
    );
  });
});

describe('embedded metric format', () => {
  const line = JSON.stringify({
    _aws: {
      Timestamp: 1,
      CloudWatchMetrics: [
        {
          Namespace: 'SfBackup',
          Dimensions: [
            ['service', 'org', 'mode'],
            ['service', 'org', 'kind'],
          ],
          Metrics: [{ Name: 'BackupSucceeded', Unit: 'Count' }],
        },
      ],
    },
    service: 'sfbackup-backup',
    org: 'acme',
    mode: 'full',
    kind: 'data',
    BackupSucceeded: 1,
  });

  it('records a metric once for each dimension set, stamped with the local clock', () => {
    expect(datapointsOfEmf(line, T0)).toEqual([
      {
        namespace: 'SfBackup',
        name: 'BackupSucceeded',
        dimensions: { service: 'sfbackup-backup', org: 'acme', mode: 'full' },
        timestamp: T0,
        value: 1,
      },
      {
        namespace: 'SfBackup',
        name: 'BackupSucceeded',
        dimensions: { service: 'sfbackup-backup', org: 'acme', kind: 'data' },
        timestamp: T0,
        value: 1,
      },
    ]);
    expect(datapointsOfEmf('{"level":"INFO","message":"finished"}', T0)).toEqual([]);
    expect(datapointsOfEmf('not json', T0)).toEqual([]);
  });

  it('takes the metric lines Powertools writes to standard output and lets other output through', async () => {
    const { Metrics, MetricUnit } = await import('@aws-lambda-powertools/metrics');
    const lines: string[] = [];
    await captureEmf(
      (l) => lines.push(l),
      async () => {
        const metrics = new Metrics({
          namespace: 'SfBackup',
          serviceName: 'sfbackup-backup',
          defaultDimensions: { org: 'acme' },
        });
        metrics.addMetric('RunRows', MetricUnit.Count, 12);
        metrics.publishStoredMetrics();
      },
    );
    expect(lines).toHaveLength(1);
    expect(datapointsOfEmf(lines[0] as string, T0)).toEqual([
      {
        namespace: 'SfBackup',
        name: 'RunRows',
        dimensions: { service: 'sfbackup-backup', org: 'acme' },
        timestamp: T0,
        value: 12,
      },
    ]);
  });
});

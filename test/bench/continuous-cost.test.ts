import { describe, expect, it } from 'vitest';
import {
  batchGatherSeconds,
  eventsPerBatch,
  firehoseCostPerMillion,
  modelledRecoveryPointMs,
  percentile,
  queueCostPerMillion,
  windowBoundRate,
} from '../../bench/continuous-cost.ts';

const template = { batchSize: 10_000, windowSeconds: 300 };

describe('the percentile helper', () => {
  it('takes the nearest rank: the smallest value with at least q of the values at or below it', () => {
    const values = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(percentile(values, 0.5)).toBe(5);
    expect(percentile(values, 0.99)).toBe(10);
    expect(percentile(values, 0.1)).toBe(1);
    expect(percentile(values, 1)).toBe(10);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(hundred, 0.99)).toBe(99);
  });

  it('refuses an empty list and a quantile outside (0, 1]', () => {
    expect(() => percentile([], 0.5)).toThrow(/none were measured/);
    expect(() => percentile([1], 0)).toThrow(/0 < q <= 1; got 0/);
    expect(() => percentile([1], 1.5)).toThrow(/got 1.5/);
  });
});

describe('the batching model of the writer', () => {
  it('closes a batch by the window at low rates, and by size or the 6 MB payload at high ones', () => {
    // 50,000 events a day: 173 events gather in the 300 s window.
    expect(eventsPerBatch(template, 50_000 / 86_400, 1_000)).toBe(173);
    expect(batchGatherSeconds(template, 50_000 / 86_400, 1_000)).toBe(300);
    // 2 KB events: 6 MB holds 3,072 of them, fewer than the batch size of 10,000.
    expect(windowBoundRate(template, 2_048)).toBeCloseTo(3_072 / 300, 10);
    expect(eventsPerBatch(template, 100, 2_048)).toBe(3_072);
    expect(batchGatherSeconds(template, 100, 2_048)).toBeCloseTo(30.72, 10);
    // Small events: the batch size binds first.
    expect(eventsPerBatch(template, 1_000, 100)).toBe(10_000);
    expect(batchGatherSeconds(template, 1_000, 100)).toBe(10);
  });

  it('adds the quantile of a uniform wait over the gather time to the measured quantile', () => {
    const local = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(modelledRecoveryPointMs(local, 0.5, 300)).toBe(50 + 150_000);
    expect(modelledRecoveryPointMs(local, 0.99, 300)).toBe(99 + 297_000);
    expect(modelledRecoveryPointMs(local, 1, 300)).toBe(100 + 300_000);
  });
});

describe('the cost of a million change events', () => {
  const measures = {
    eventBytes: 2_048,
    eventsPerBatch: 1_000,
    writerMsPerEvent: 0.5,
    memoryMb: 1_024,
    s3WritesPerBatch: 2,
    s3ReadsPerBatch: 1,
    storedBytesPerEvent: 400,
  };

  it('itemises EventBridge, SQS requests, Lambda and S3 as the price pages bill them', () => {
    const cost = queueCostPerMillion(measures);
    const usd = Object.fromEntries(cost.items.map((i) => [i.name, i.usd]));
    const quantity = Object.fromEntries(cost.items.map((i) => [i.name, i.quantity]));
    expect(usd.eventbridge).toBeCloseTo(1, 10);
    expect(usd.rule_delivery).toBe(0);
    // One SendMessage per event; ten 2 KB messages (20 KB) fit one 64 KB receive chunk.
    expect(quantity.sqs_send).toBe(1_000_000);
    expect(quantity.sqs_receive).toBe(100_000);
    expect(quantity.sqs_delete).toBe(100_000);
    expect(usd.sqs_send! + usd.sqs_receive! + usd.sqs_delete!).toBeCloseTo(1.2 * 0.4, 10);
    // 1,000 invocations of 500 ms at 1 GB: 500 GB-s.
    expect(quantity.lambda_requests).toBe(1_000);
    expect(quantity.lambda_gb_seconds).toBeCloseTo(500, 10);
    expect(usd.lambda_gb_seconds).toBeCloseTo(500 * 0.0000133334, 12);
    expect(usd.lambda_requests).toBeCloseTo(0.0002, 12);
    // Two PUTs per batch: 2,000 PUTs at $0.005 per 1,000.
    expect(quantity.s3_puts).toBe(2_000);
    expect(usd.s3_puts).toBeCloseTo(0.01, 12);
    expect(usd.s3_reads).toBeCloseTo(0.0004, 12);
    expect(quantity.s3_storage).toBeCloseTo(4e8 / 1024 ** 3, 12);
    expect(cost.total).toBeCloseTo(
      cost.items.reduce((n, i) => n + i.usd, 0),
      12,
    );
  });

  it('counts each 64 KB chunk of a large event as one EventBridge event and one SQS request', () => {
    const cost = queueCostPerMillion({ ...measures, eventBytes: 100 * 1024 });
    const quantity = Object.fromEntries(cost.items.map((i) => [i.name, i.quantity]));
    expect(quantity.eventbridge).toBe(2_000_000);
    expect(quantity.sqs_send).toBe(2_000_000);
    // Ten 100 KB messages are 1,000 KB: 16 chunks per receive.
    expect(quantity.sqs_receive).toBe(1_600_000);
  });

  it('bills Firehose ingestion in 5 KB increments and one object per buffer interval', () => {
    const cost = firehoseCostPerMillion({
      eventBytes: 2_048,
      storedBytesPerEvent: 400,
      eventsPerDay: 1_000_000,
      bufferSeconds: 60,
    });
    const quantity = Object.fromEntries(cost.items.map((i) => [i.name, i.quantity]));
    expect(quantity.firehose_ingest).toBeCloseTo((1_000_000 * 5 * 1024) / 1024 ** 3, 10);
    expect(quantity.s3_puts).toBe(1_440);
    expect(cost.total).toBeCloseTo(1 + 4.768 * 0.029 + 1_440 * 0.000005 + 0.3725 * 0.023, 3);
  });

  it('refuses measures that cannot be priced, naming each', () => {
    expect(() =>
      queueCostPerMillion({ ...measures, eventsPerBatch: 0, writerMsPerEvent: Number.NaN }),
    ).toThrow(/eventsPerBatch is 0, writerMsPerEvent is NaN/);
  });
});

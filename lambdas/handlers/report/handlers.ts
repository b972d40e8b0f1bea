/**
 * The diff report's functions: thin over lambdas/core/report/diff-report.ts. They read the org's
 * backups and write its reports; they never reach Salesforce.
 */
import { z } from 'zod';
import { ErrorName, ServiceName } from '../../../contract/workflow-contract.ts';
import {
  type DiffFinishOutput,
  type DiffStartOutput,
  diffReportObject,
  finishDiffReport,
  startDiffReport,
} from '../../core/report/diff-report.ts';
import { describeProblems, parseEvent } from '../parse-event.ts';
import { orgNameFromEnv, storeFromEnv, telemetry } from '../runtime.ts';

/** A report step was handed a state it cannot read: a defect of the workflow, not of the request. */
export class InvalidDiffStateError extends Error {
  override readonly name = ErrorName.InvalidDiffState;
}

const { instrumented } = telemetry(ServiceName.Report);

const startEvent = z.object({ input: z.unknown(), executionName: z.string().min(1) });
const objectEvent = z.object({
  runKey: z.string().min(1),
  object: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'an object API name'),
});
const finishEvent = z.object({ runKey: z.string().min(1) });

const state = <T>(schema: z.ZodType<T>, event: unknown, what: string): T =>
  parseEvent(schema, event, (problems) => new InvalidDiffStateError(describeProblems(what, problems)));

/** Checks the request, resolves both snapshots and lists the objects to compare. */
export async function diffStart(event: unknown): Promise<DiffStartOutput> {
  const { input, executionName } = state(startEvent, event, 'The diff start state');
  const org = orgNameFromEnv();
  return instrumented('DiffStart', org, async ({ logger }) => {
    const out = await startDiffReport(storeFromEnv(), org, input, executionName);
    logger.info('diff started', { from: out.from, to: out.to, objects: out.objects });
    return out;
  });
}

/** Compares one object and writes its result. */
export async function diffObject(event: unknown): Promise<{ object: string; differences: number }> {
  const { runKey, object } = state(objectEvent, event, 'The diff object state');
  const org = orgNameFromEnv();
  return instrumented('DiffObject', org, async ({ logger }) => {
    const out = await diffReportObject(storeFromEnv(), org, runKey, object);
    logger.info('object compared', out);
    return out;
  });
}

/** Compares metadata, writes the report and the restore input it suggests. */
export async function diffFinish(event: unknown): Promise<DiffFinishOutput> {
  const { runKey } = state(finishEvent, event, 'The diff finish state');
  const org = orgNameFromEnv();
  return instrumented('DiffFinish', org, async ({ logger }) => {
    const out = await finishDiffReport(storeFromEnv(), org, runKey);
    logger.info('diff written', { reportKey: out.reportKey, ...out.totals });
    return out;
  });
}

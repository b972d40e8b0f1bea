/**
 * The journal writer: an SQS batch of change events, as Event Relay put them on EventBridge and
 * the org's rule sent them to the queue, written to the org's journal in the vault. Events it
 * cannot read are reported as failed items, so the queue delivers them again and, after its
 * receive limit, parks them in its dead-letter queue, which alarms.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { ErrorName, ServiceName } from '../../../contract/workflow-contract.ts';
import { type JournalMessage, writeJournalBatch } from '../../core/continuous/journal.ts';
import { describeProblems, parseEvent } from '../parse-event.ts';
import { MetricUnit, orgNameFromEnv, storeFromEnv, telemetry } from '../runtime.ts';

/** The function was invoked with something that is not an SQS batch. */
export class InvalidJournalBatchError extends Error {
  override readonly name = ErrorName.InvalidJournalBatch;
}

const { instrumented } = telemetry(ServiceName.Continuous);

const batchSchema = z.object({
  Records: z.array(z.object({ messageId: z.string().min(1), body: z.string() })).min(1),
});

/** Writes one SQS batch to the journal; returns the messages to deliver again. */
export async function writeJournal(event: SQSEvent | unknown, _context?: Context): Promise<SQSBatchResponse> {
  const batch = parseEvent(
    batchSchema,
    event,
    (problems) => new InvalidJournalBatchError(describeProblems('The journal batch', problems)),
  );
  const org = orgNameFromEnv();
  return instrumented('WriteJournal', org, async ({ metrics, logger }) => {
    const unparsed: string[] = [];
    const messages: JournalMessage[] = [];
    for (const record of batch.Records) {
      try {
        messages.push({ messageId: record.messageId, event: JSON.parse(record.body) as unknown });
      } catch {
        unparsed.push(record.messageId);
      }
    }
    const result = await writeJournalBatch(storeFromEnv(), org, messages, () => new Date());
    const failed = [...unparsed, ...result.failedMessageIds];
    metrics.addMetric('JournalEvents', MetricUnit.Count, result.events);
    metrics.addMetric('JournalRefusedEvents', MetricUnit.Count, failed.length);
    // Keys and counts only: an event holds record values.
    logger.info('journaled', { events: result.events, objects: result.keys.length, refused: failed.length });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
}

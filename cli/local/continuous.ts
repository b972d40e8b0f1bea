/**
 * The journal's delivery path run locally, from the template CDK synthesized: change events put
 * on the org's partner event bus are matched by its rule's event pattern, queued, and handed to
 * the journal writer's real handler in batches, as the queue's event source mapping would (batch
 * size, failed items delivered again, parked in the dead-letter queue after the queue's receive
 * limit). No second copy of the rule: the pattern, batch size and receive limit are read from the
 * template.
 */
import { randomUUID } from 'node:crypto';
import { EnvName } from '../../contract/workflow-contract.ts';
import { matchesEventPattern } from './app/event-pattern.ts';
import { withScopedEnv } from './env-scope.ts';
import { invokeHandler } from './invoke.ts';
import type { CfnResource } from './template.ts';
import type { LocalFunction, SynthesizedWorkflow } from './synthesize.ts';

/** The synthesized app has no continuous journal for the org. */
export class NoContinuousJournalError extends Error {
  override readonly name = 'NoContinuousJournalError';
}

/** A message on the local queue. */
interface QueuedMessage {
  readonly messageId: string;
  readonly body: string;
  receives: number;
}

/** What a drain did. */
export interface JournalDrain {
  readonly batches: number;
  /** Messages the writer took (not reported as failed). */
  readonly delivered: number;
  /** Bodies parked in the writer's dead-letter queue after the queue's receive limit. */
  readonly deadLettered: readonly unknown[];
}

/** The org's journal delivery, run locally. */
export interface LocalJournal {
  /** The rule's event pattern, as synthesized. */
  readonly pattern: unknown;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  /** Puts events on the partner bus; returns how many the rule sent to the queue. */
  put(events: readonly unknown[]): number;
  /** Hands the queue to the writer, batch by batch, until it is empty. */
  drain(): Promise<JournalDrain>;
}

type Resources = Record<string, CfnResource>;

const refOf = (value: unknown): string | undefined => {
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
  if (typeof v?.Ref === 'string') return v.Ref;
  if (Array.isArray(v?.['Fn::GetAtt'])) return String(v['Fn::GetAtt'][0]);
  return undefined;
};

/**
 * The journal delivery of the app `workflow` was synthesized from (any state machine of the org's
 * stack will do): its partner event bus, rule, queue and writer.
 */
export function localJournal(
  workflow: SynthesizedWorkflow,
  options: {
    storeDir: string;
    projectRoot?: string;
    region?: string;
    env?: Readonly<Record<string, string>>;
  },
): LocalJournal {
  const stack = workflow.stacks.find((s) => s.stackName === workflow.stackName);
  const resources: Resources = (stack?.template.Resources ?? {}) as Resources;
  const of = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
  const bus = of('AWS::Events::EventBus').find(([, r]) => typeof r.Properties?.EventSourceName === 'string');
  if (!bus) {
    throw new NoContinuousJournalError(
      `Stack ${workflow.stackName} has no partner event bus: name the org's Event Relay source in its config (continuous.partnerEventSource).`,
    );
  }
  const rule = of('AWS::Events::Rule').find(([, r]) => refOf(r.Properties?.EventBusName) === bus[0]);
  const target = (rule?.[1].Properties?.Targets as { Arn?: unknown }[] | undefined)?.[0];
  const queueId = refOf(target?.Arn);
  const mapping = of('AWS::Lambda::EventSourceMapping').find(
    ([, r]) => refOf(r.Properties?.EventSourceArn) === queueId,
  );
  const fn: LocalFunction | undefined = mapping
    ? workflow.functions.get(String(refOf(mapping[1].Properties?.FunctionName)))
    : undefined;
  if (!rule || !queueId || !mapping || !fn) {
    throw new NoContinuousJournalError(
      `Stack ${workflow.stackName} has a partner event bus but not its rule, queue and writer; synthesize the org's stack from lib/continuous-journal.ts.`,
    );
  }
  const pattern = rule[1].Properties?.EventPattern;
  const batchSize = Number(mapping[1].Properties?.BatchSize ?? 10);
  const redrive = resources[queueId]?.Properties?.RedrivePolicy as { maxReceiveCount?: number } | undefined;
  const maxReceiveCount = Number(redrive?.maxReceiveCount ?? Number.POSITIVE_INFINITY);
  const queue: QueuedMessage[] = [];
  const settings = {
    projectRoot: options.projectRoot ?? process.cwd(),
    region: options.region ?? 'us-east-1',
    env: { ...options.env, [EnvName.LocalStoreDir]: options.storeDir },
    functionEnv: {},
  };
  return {
    pattern,
    batchSize,
    maxReceiveCount,
    put(events) {
      let queued = 0;
      for (const event of events) {
        if (!matchesEventPattern(pattern, event)) continue;
        queue.push({ messageId: randomUUID(), body: JSON.stringify(event), receives: 0 });
        queued++;
      }
      return queued;
    },
    drain: () =>
      withScopedEnv(async () => {
        let batches = 0;
        let delivered = 0;
        const deadLettered: unknown[] = [];
        while (queue.length > 0) {
          const batch = queue.splice(0, batchSize);
          batches++;
          for (const m of batch) m.receives++;
          let failed: Set<string>;
          try {
            const answer = (await invokeHandler(
              fn,
              {
                Records: batch.map((m) => ({ messageId: m.messageId, body: m.body, eventSource: 'aws:sqs' })),
              },
              settings,
            )) as { batchItemFailures?: { itemIdentifier: string }[] } | null;
            failed = new Set((answer?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          } catch {
            // A failed invocation returns the whole batch to the queue.
            failed = new Set(batch.map((m) => m.messageId));
          }
          for (const m of batch) {
            if (!failed.has(m.messageId)) delivered++;
            else if (m.receives >= maxReceiveCount) deadLettered.push(JSON.parse(m.body));
            else queue.push(m);
          }
        }
        return { batches, delivered, deadLettered };
      }),
  };
}

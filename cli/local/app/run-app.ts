/**
 * A local run of the whole app as synthesized from a config, over a window of a local clock:
 * the schedules fire and start their state machines with their inputs (each execution run by the
 * local runner with the real handlers); every execution's status change goes onto a local event
 * bus, where the app's rules match it and deliver the transformed input to their targets (an SNS
 * topic, or the target's dead-letter queue when the topic refuses it; a state machine, started as
 * the target's role when its policies allow it, with the target's input); the metrics the
 * handlers publish and the ones Step Functions and SQS publish are recorded on the clock; and
 * every alarm of the app is evaluated on them, its actions delivered as alerts.
 *
 * Time: a schedule fires at its instant of the local clock, a rule starts its state machine at the
 * instant of the event it matched; the execution runs for real and is placed on the clock at that
 * instant plus its real duration. Executions due at the same instant run one after the other, the
 * schedules' first. Each alarm is evaluated at the end of each of its periods.
 */
import { CfnResource, Stack, Stage } from 'aws-cdk-lib';
import { createStore } from '../../../lambdas/adapters/create-store.ts';
import type { Json } from '../asl.ts';
import { AppPolicies } from '../policies.ts';
import { type RunResult, runWorkflow } from '../run.ts';
import { type SynthesizedWorkflow, synthesizeDefinition } from '../synthesize.ts';
import { LOCAL_ACCOUNT, type StackTemplate } from '../template.ts';
import { type AlarmSpec, type AlarmState, alarmPeriodSeconds, checkAlarm, evaluateAlarm } from './alarms.ts';
import { fireTimes } from './cron.ts';
import { matchesEventPattern } from './event-pattern.ts';
import { type InputTransformerSpec, transformInput } from './input-transformer.ts';
import { captureEmf, type Datapoint, datapointsOfEmf, MetricStore } from './metrics.ts';
import { type ExecutionStatus, executionArnOf, executionStatusChangeEvent } from './status-event.ts';
import { TopicDeliveryPolicies } from './topic-delivery.ts';

/** Options of runLocalApp. */
export interface LocalAppRunOptions {
  /**
   * A stack of the app (built with `aws:cdk:bundling-stacks` set to `[]` and without cdk-nag).
   * The run covers every stack of its app: the schedules, rules and alarms of each org stack and
   * of the shared alerting stack.
   */
  readonly stack: Stack;
  /** The first instant of the local clock. */
  readonly from: Date;
  /** The instant the run ends (excluded). */
  readonly to: Date;
  /** Where the handlers' vault lives: a local directory. */
  readonly storeDir: string;
  /** Variables layered over every function's environment (the org connection, settings...). */
  readonly env: Readonly<Record<string, string>>;
  /** Region of the local ARNs. @default 'us-east-1' */
  readonly region?: string;
  /** Multiplies every Retry interval. @default 0 */
  readonly retryIntervalScale?: number;
  /**
   * Decides whether a topic accepts a delivery (an event rule's or an alarm's); a reason refuses
   * it, as a topic or key policy gone wrong would. @default - the app's policies decide
   */
  readonly topicRefuses?: (delivery: Delivery) => string | undefined;
  /** Receives every execution as it ends. @default - none */
  readonly onExecution?: (execution: LocalAppExecution) => void | Promise<void>;
}

/** One execution a schedule or an event rule started. */
export interface LocalAppExecution {
  /** The logical id of the schedule, or of the event rule, that started it. */
  readonly schedule: string;
  readonly startedBy: 'schedule' | 'rule';
  readonly stateMachineArn: string;
  readonly executionArn: string;
  readonly input: Json;
  readonly startDate: Date;
  readonly stopDate: Date;
  readonly status: RunResult['status'];
  readonly error?: string;
}

/** A message delivered, or refused, to an SNS topic. */
export interface Delivery {
  /** `rule` for an event rule's target, `alarm` for an alarm action. */
  readonly from: 'rule' | 'alarm';
  /** The rule's or alarm's logical id. */
  readonly source: string;
  readonly topicArn: string;
  readonly at: Date;
  readonly subject?: string;
  readonly message: string;
}

/** What a target refused, kept in the dead-letter queue of the rule or schedule that sent it. */
export interface DeadLetter {
  readonly queueArn: string;
  /** The rule's or schedule's logical id. */
  readonly source: string;
  readonly at: Date;
  /** What was sent: the alert text, or the execution input. */
  readonly message: string;
  /** Why the target refused it. */
  readonly reason: string;
}

/** A delivery the topic refused that nothing kept. */
export interface Undelivered {
  readonly delivery: Delivery;
  readonly reason: string;
}

/** One change of an alarm's state. */
export interface AlarmTransition {
  readonly alarm: string;
  readonly at: Date;
  readonly from: AlarmState;
  readonly to: AlarmState;
}

/** A start of a state machine that its schedule's or rule's role may not make: nothing ran. */
export interface RefusedStart {
  /** The schedule's or rule's logical id. */
  readonly source: string;
  readonly stateMachineArn: string;
  readonly at: Date;
  readonly reason: string;
}

/** A start a rule made of an event, due at or after the window's end: it would run in AWS, not in this run. */
export interface StartAfterWindow {
  /** The rule's logical id. */
  readonly source: string;
  readonly stateMachineArn: string;
  readonly at: Date;
}

/** What a local run of the app did. */
export interface LocalAppRun {
  readonly executions: readonly LocalAppExecution[];
  /** Starts refused by the policies, each kept in the dead-letter queue too when there is one. */
  readonly refusedStarts: readonly RefusedStart[];
  /** Starts the rules made of events near the window's end, due after it: not run. */
  readonly startsAfterWindow: readonly StartAfterWindow[];
  /** Messages the topics accepted, in order. */
  readonly alerts: readonly Delivery[];
  readonly deadLetters: readonly DeadLetter[];
  /** Deliveries refused with no dead-letter queue to keep them (an alarm action's failure, in its history). */
  readonly undelivered: readonly Undelivered[];
  readonly alarmTransitions: readonly AlarmTransition[];
  /** Each alarm's state at the end, by logical id. */
  readonly alarmStates: Readonly<Record<string, AlarmState>>;
  readonly metrics: readonly Datapoint[];
}

/** A schedule that fires on the local clock and what it starts. */
interface LocalSchedule {
  readonly logicalId: string;
  readonly expression: string;
  readonly timezone: string;
  readonly startDate?: Date;
  readonly endDate?: Date;
  readonly targetArn: string;
  readonly roleArn?: string;
  readonly deadLetterArn?: string;
  readonly input: Json;
}

/** Starts of one state machine by one rule at one instant past which the rule is taken to loop. */
const STARTS_AT_ONE_INSTANT = 100;

/** A start of a state machine due on the local clock, by a schedule or a rule. */
interface Start {
  readonly source: string;
  readonly by: 'schedule' | 'rule';
  readonly targetArn: string;
  readonly roleArn?: string;
  readonly deadLetterArn?: string;
  readonly input: Json;
  readonly at: Date;
}

interface LocalRule {
  readonly logicalId: string;
  readonly name: string;
  readonly pattern: unknown;
  readonly targets: readonly {
    readonly Arn: string;
    readonly RoleArn?: string;
    readonly Input?: string;
    readonly InputTransformer?: InputTransformerSpec;
    readonly DeadLetterConfig?: { readonly Arn: string };
  }[];
}

/** Runs the app of `options.stack`, every stack of it, over [from, to) of the local clock. */
export async function runLocalApp(options: LocalAppRunOptions): Promise<LocalAppRun> {
  const region = options.region ?? 'us-east-1';
  const stage = Stage.of(options.stack);
  if (!stage) throw new Error(`Stack ${options.stack.stackName} is not part of an app.`);
  const appStacks = stage.node.findAll().filter((c): c is Stack => Stack.isStack(c));
  const stackByName = new Map(appStacks.map((s) => [s.stackName, s]));
  const machineIds = appStacks.flatMap((stack) =>
    stack.node
      .findAll()
      .filter(
        (c) =>
          Stack.of(c) === stack &&
          CfnResource.isCfnResource(c) &&
          c.cfnResourceType === 'AWS::StepFunctions::StateMachine',
      )
      .map((c) => ({ stack, logicalId: stack.getLogicalId(c as CfnResource) })),
  );
  const firstId = machineIds[0];
  if (!firstId) {
    throw new Error(
      `The app of stack ${options.stack.stackName} holds no state machine; pass a stack of the app that holds the workflows and their schedules.`,
    );
  }
  const machines = new Map<string, SynthesizedWorkflow>();
  const first = synthesizeDefinition(firstId.stack, firstId.logicalId, { region });
  machines.set(`${first.stackName}/${first.stateMachineLogicalId}`, first);
  const resolver = first.resolver;
  const stacks: readonly StackTemplate[] = first.stacks;
  const policies = new AppPolicies(stacks, resolver, region);
  const topics = new TopicDeliveryPolicies(stacks, resolver);

  const schedules: LocalSchedule[] = [];
  const rules: LocalRule[] = [];
  const alarms: AlarmSpec[] = [];
  // The stack of each schedule, rule and alarm, by logical id: alarm names and rule ARNs hold it.
  const stackOf = new Map<string, string>();
  for (const stack of stacks) {
    const resolve = (value: unknown) => resolver.resolve(value, stack);
    for (const [logicalId, resource] of Object.entries(stack.template.Resources ?? {})) {
      const p = (resource.Properties ?? {}) as Record<string, unknown>;
      const kind = resource.Type;
      if (
        kind !== 'AWS::Scheduler::Schedule' &&
        kind !== 'AWS::Events::Rule' &&
        kind !== 'AWS::CloudWatch::Alarm'
      ) {
        continue;
      }
      const seen = stackOf.get(logicalId);
      if (seen !== undefined) {
        throw new Error(
          `Stacks ${seen} and ${stack.stackName} both hold a schedule, rule or alarm ${logicalId}; the local run tells them apart by logical id, so give one of their constructs another id.`,
        );
      }
      stackOf.set(logicalId, stack.stackName);
      if (kind === 'AWS::Scheduler::Schedule' && p.State !== 'DISABLED') {
        const target = resolve(p.Target) as {
          Arn: string;
          RoleArn?: string;
          Input?: string;
          DeadLetterConfig?: { Arn?: string };
        };
        schedules.push({
          logicalId,
          expression: String(resolve(p.ScheduleExpression)),
          timezone: String(resolve(p.ScheduleExpressionTimezone ?? 'UTC')),
          ...(p.StartDate ? { startDate: new Date(String(resolve(p.StartDate))) } : {}),
          ...(p.EndDate ? { endDate: new Date(String(resolve(p.EndDate))) } : {}),
          targetArn: target.Arn,
          ...(target.RoleArn ? { roleArn: target.RoleArn } : {}),
          ...(target.DeadLetterConfig?.Arn ? { deadLetterArn: target.DeadLetterConfig.Arn } : {}),
          input: target.Input === undefined ? {} : (JSON.parse(target.Input) as Json),
        });
      } else if (kind === 'AWS::Events::Rule' && p.State !== 'DISABLED') {
        const targets = (resolve(p.Targets) ?? []) as LocalRule['targets'];
        if (p.ScheduleExpression) {
          for (const target of targets) {
            schedules.push({
              logicalId,
              expression: String(resolve(p.ScheduleExpression)),
              timezone: 'UTC',
              targetArn: target.Arn,
              ...(target.RoleArn ? { roleArn: target.RoleArn } : {}),
              ...(target.DeadLetterConfig?.Arn ? { deadLetterArn: target.DeadLetterConfig.Arn } : {}),
              input: target.Input === undefined ? {} : (JSON.parse(target.Input) as Json),
            });
          }
        }
        if (p.EventPattern) {
          rules.push({
            logicalId,
            name: `${stack.stackName}-${logicalId}`,
            pattern: resolve(p.EventPattern),
            targets,
          });
        }
      } else if (kind === 'AWS::CloudWatch::Alarm') {
        const spec = { logicalId, ...(resolve(p) as object) } as AlarmSpec;
        checkAlarm(spec);
        alarms.push(spec);
      }
    }
  }

  const metrics = new MetricStore();
  const executions: LocalAppExecution[] = [];
  const refusedStarts: RefusedStart[] = [];
  // Starts the rules made of the events they matched, not run yet; how many each rule made at each instant.
  const ruleStarts: Start[] = [];
  const startsAt = new Map<string, number>();
  // Execution names taken: two starts of one source at one instant get names of their own.
  const names = new Set<string>();
  // A start that does not happen: kept in `refusedStarts`, and in the dead-letter queue when there is one.
  const refuseStart = (
    start: Pick<Start, 'source' | 'targetArn' | 'deadLetterArn' | 'at'>,
    reason: string,
    message: string,
  ): void => {
    refusedStarts.push({ source: start.source, stateMachineArn: start.targetArn, at: start.at, reason });
    if (start.deadLetterArn)
      deadLetters.push({
        queueArn: start.deadLetterArn,
        source: start.source,
        at: start.at,
        message,
        reason,
      });
  };
  const alerts: Delivery[] = [];
  const deadLetters: DeadLetter[] = [];
  const undelivered: Undelivered[] = [];
  const transitions: AlarmTransition[] = [];
  const states = new Map<string, AlarmState>(alarms.map((a) => [a.logicalId, 'INSUFFICIENT_DATA']));
  const nextEvaluation = new Map<string, number>(
    alarms.map((a) => [a.logicalId, periodEnd(options.from.getTime(), alarmPeriodSeconds(a) * 1000)]),
  );

  const deliverToTopic = async (
    delivery: Delivery,
    sourceArn: string,
    deadLetterArn?: string,
  ): Promise<void> => {
    const refusal = options.topicRefuses
      ? options.topicRefuses(delivery)
      : await topics.refusal({
          service: delivery.from === 'rule' ? 'events.amazonaws.com' : 'cloudwatch.amazonaws.com',
          topicArn: delivery.topicArn,
          sourceArn,
        });
    if (refusal === undefined) {
      alerts.push(delivery);
      return;
    }
    if (deadLetterArn) {
      deadLetters.push({
        queueArn: deadLetterArn,
        source: delivery.source,
        at: delivery.at,
        message: delivery.message,
        reason: refusal,
      });
    } else undelivered.push({ delivery, reason: refusal });
  };

  // Step Functions' status changes go onto the bus; each matching rule delivers to its targets.
  const putEvent = async (event: Record<string, unknown>, at: Date): Promise<void> => {
    for (const rule of rules) {
      if (!matchesEventPattern(rule.pattern, event)) continue;
      for (const target of rule.targets) {
        const ruleArn = `arn:aws:events:${region}:${LOCAL_ACCOUNT}:rule/${rule.name}`;
        const message = target.InputTransformer
          ? transformInput(target.InputTransformer, event, {
              ruleArn,
              ruleName: rule.name,
              ingestionTime: at,
            })
          : (target.Input ?? JSON.stringify(event));
        const kind = resolver.lookup(target.Arn)?.kind;
        if (kind === 'state-machine') {
          const start = {
            source: rule.logicalId,
            targetArn: target.Arn,
            ...(target.DeadLetterConfig?.Arn ? { deadLetterArn: target.DeadLetterConfig.Arn } : {}),
            at,
          };
          let input: Json;
          try {
            input = JSON.parse(message) as Json;
          } catch {
            refuseStart(
              start,
              `rule ${rule.logicalId} gives its state machine target input that is not JSON`,
              message,
            );
            continue;
          }
          // (EventBridge refuses such a target when it is put: it starts a state machine only as a role.)
          if (!target.RoleArn) {
            refuseStart(
              start,
              `rule ${rule.logicalId} names no role to start its state machine target as`,
              message,
            );
            continue;
          }
          const key = `${rule.logicalId}@${at.getTime()}`;
          const count = (startsAt.get(key) ?? 0) + 1;
          startsAt.set(key, count);
          if (count > STARTS_AT_ONE_INSTANT)
            throw new Error(
              `Rule ${rule.logicalId} started ${target.Arn} ${STARTS_AT_ONE_INSTANT} times at ${at.toISOString()}: it matches the status changes of the executions it starts, which would never end. Narrow its event pattern.`,
            );
          ruleStarts.push({ ...start, by: 'rule', roleArn: target.RoleArn, input });
          continue;
        }
        if (kind !== 'topic') continue;
        await deliverToTopic(
          { from: 'rule', source: rule.logicalId, topicArn: target.Arn, at, message },
          ruleArn,
          target.DeadLetterConfig?.Arn,
        );
      }
    }
  };

  // Alarms are evaluated at the end of each of their periods up to `until`.
  const evaluateAlarmsUntil = async (until: number): Promise<void> => {
    for (;;) {
      const due = alarms
        .map((a) => ({ alarm: a, at: nextEvaluation.get(a.logicalId) as number }))
        .filter((d) => d.at <= until)
        .sort((a, b) => a.at - b.at)[0];
      if (!due) return;
      const { alarm, at } = due;
      recordQueueDepths(metrics, deadLetters, at);
      const before = states.get(alarm.logicalId) as AlarmState;
      const { state } = evaluateAlarm(alarm, metrics, at, before);
      if (state !== before) {
        const alarmName = `${stackOf.get(alarm.logicalId)}-${alarm.logicalId}`;
        states.set(alarm.logicalId, state);
        transitions.push({ alarm: alarm.logicalId, at: new Date(at), from: before, to: state });
        if (state === 'ALARM') {
          for (const action of alarm.AlarmActions ?? []) {
            if (resolver.lookup(action)?.kind !== 'topic') continue;
            await deliverToTopic(
              {
                from: 'alarm',
                source: alarm.logicalId,
                topicArn: action,
                at: new Date(at),
                subject: `ALARM: "${alarmName}" in ${region}`,
                message: JSON.stringify({
                  AlarmName: alarmName,
                  AlarmDescription: alarm.AlarmDescription ?? null,
                  AWSAccountId: LOCAL_ACCOUNT,
                  NewStateValue: state,
                  OldStateValue: before,
                  StateChangeTime: new Date(at).toISOString(),
                  Region: region,
                }),
              },
              `arn:aws:cloudwatch:${region}:${LOCAL_ACCOUNT}:alarm:${alarmName}`,
            );
          }
        }
      }
      nextEvaluation.set(alarm.logicalId, at + alarmPeriodSeconds(alarm) * 1000);
    }
  };

  const fires = schedules
    .flatMap((schedule) =>
      fireTimes(schedule.expression, {
        from: options.from,
        to: options.to,
        timezone: schedule.timezone,
        ...(schedule.startDate ? { startDate: schedule.startDate } : {}),
        ...(schedule.endDate ? { endDate: schedule.endDate } : {}),
      }).map((at) => ({ schedule, at })),
    )
    .sort(
      (a, b) => a.at.getTime() - b.at.getTime() || a.schedule.logicalId.localeCompare(b.schedule.logicalId),
    );

  const store = createStore(options.storeDir);
  // Runs one start: as its role when it has one (a start the policies refuse is kept in the
  // dead-letter queue when there is one, and nothing runs), then its status changes onto the bus.
  const runStart = async (start: Start): Promise<void> => {
    const { at } = start;
    const target = resolver.lookup(start.targetArn);
    if (target?.kind !== 'state-machine') return;
    if (start.roleArn) {
      const decision = await policies.check({
        principal: start.roleArn,
        action: 'states:StartExecution',
        resource: start.targetArn,
        session: start.source,
      });
      if (!decision.allowed) {
        refuseStart(
          start,
          `${start.roleArn} may not call states:StartExecution on ${start.targetArn} ${decision.reason ?? ''}`.trim(),
          JSON.stringify(start.input),
        );
        return;
      }
    }
    const machineKey = `${target.stackName}/${target.logicalId}`;
    let workflow = machines.get(machineKey);
    if (!workflow) {
      const stack = stackByName.get(target.stackName);
      if (!stack)
        throw new Error(
          `The app holds no stack ${target.stackName}, whose ${target.logicalId} a schedule or rule starts.`,
        );
      workflow = synthesizeDefinition(stack, target.logicalId, { region });
      machines.set(machineKey, workflow);
    }
    const stem = `${start.source}-${at.toISOString().replace(/[:.]/g, '-')}`;
    let name = stem;
    for (let n = 2; names.has(name); n++) name = `${stem}-${n}`;
    names.add(name);
    const startedReal = Date.now();
    const clock = () => at.getTime() + (Date.now() - startedReal);
    await putEvent(
      executionStatusChangeEvent({
        region,
        account: LOCAL_ACCOUNT,
        stateMachineArn: start.targetArn,
        name,
        status: 'RUNNING',
        startDate: at,
        input: start.input,
      }),
      at,
    );
    metrics.put(statesMetric('ExecutionsStarted', start.targetArn, at.getTime()));
    const result = await captureEmf(
      (line) => metrics.put(...datapointsOfEmf(line, clock())),
      () =>
        runWorkflow({
          workflow: workflow as SynthesizedWorkflow,
          input: start.input,
          store,
          env: { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_LOG_LEVEL: 'SILENT', ...options.env },
          retryIntervalScale: options.retryIntervalScale ?? 0,
          executionName: name,
          region,
        }),
    );
    const stopDate = new Date(clock());
    metrics.put(statesMetric(EXECUTION_METRIC[result.status], start.targetArn, stopDate.getTime()));
    const execution: LocalAppExecution = {
      schedule: start.source,
      startedBy: start.by,
      stateMachineArn: start.targetArn,
      executionArn: executionArnOf(start.targetArn, name),
      input: start.input,
      startDate: at,
      stopDate,
      status: result.status,
      ...(result.error ? { error: result.error } : {}),
    };
    executions.push(execution);
    await options.onExecution?.(execution);
    await putEvent(
      executionStatusChangeEvent({
        region,
        account: LOCAL_ACCOUNT,
        stateMachineArn: start.targetArn,
        name,
        status: result.status as ExecutionStatus,
        startDate: at,
        stopDate,
        input: start.input,
        output: result.output,
        ...(result.error !== undefined ? { error: result.error } : {}),
        ...(result.cause !== undefined ? { cause: result.cause } : {}),
      }),
      stopDate,
    );
  };

  // Every start in the order of the clock: the schedules' fires, and the rules' starts as the
  // events they match come (a rule's start at or after the window's end does not run: it is
  // answered in `startsAfterWindow`, so that a caller can tell it from a start that never came).
  const scheduled: Start[] = fires.map(({ schedule, at }) => ({
    source: schedule.logicalId,
    by: 'schedule',
    targetArn: schedule.targetArn,
    ...(schedule.roleArn ? { roleArn: schedule.roleArn } : {}),
    ...(schedule.deadLetterArn ? { deadLetterArn: schedule.deadLetterArn } : {}),
    input: schedule.input,
    at,
  }));
  const startsAfterWindow: StartAfterWindow[] = [];
  for (;;) {
    const nextRule = ruleStarts.reduce<number>(
      (best, s, i) => (best < 0 || s.at.getTime() < ruleStarts[best]!.at.getTime() ? i : best),
      -1,
    );
    const ruleFirst =
      nextRule >= 0 &&
      (scheduled.length === 0 || ruleStarts[nextRule]!.at.getTime() < scheduled[0]!.at.getTime());
    const start = ruleFirst ? ruleStarts.splice(nextRule, 1)[0] : scheduled.shift();
    if (!start) break;
    if (start.at.getTime() >= options.to.getTime()) {
      startsAfterWindow.push({ source: start.source, stateMachineArn: start.targetArn, at: start.at });
      continue;
    }
    await evaluateAlarmsUntil(start.at.getTime());
    await runStart(start);
  }
  await evaluateAlarmsUntil(options.to.getTime());
  return {
    executions,
    refusedStarts,
    startsAfterWindow,
    alerts,
    deadLetters,
    undelivered,
    alarmTransitions: transitions,
    alarmStates: Object.fromEntries(states),
    metrics: metrics.all(),
  };
}

const EXECUTION_METRIC: Record<RunResult['status'], string> = {
  SUCCEEDED: 'ExecutionsSucceeded',
  FAILED: 'ExecutionsFailed',
  TIMED_OUT: 'ExecutionsTimedOut',
  ABORTED: 'ExecutionsAborted',
};

function statesMetric(name: string, stateMachineArn: string, timestamp: number): Datapoint {
  return {
    namespace: 'AWS/States',
    name,
    dimensions: { StateMachineArn: stateMachineArn },
    timestamp,
    value: 1,
  };
}

/** SQS publishes each queue's depth every minute; the local run records it at each evaluation. */
function recordQueueDepths(metrics: MetricStore, deadLetters: readonly DeadLetter[], at: number): void {
  const depths = new Map<string, number>();
  for (const d of deadLetters) {
    if (d.at.getTime() <= at) depths.set(d.queueArn, (depths.get(d.queueArn) ?? 0) + 1);
  }
  for (const [queueArn, depth] of depths) {
    const queueName = queueArn.split(':').at(-1) ?? queueArn;
    metrics.put({
      namespace: 'AWS/SQS',
      name: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: `${queueName}.QueueName` },
      timestamp: at - 1,
      value: depth,
    });
  }
}

function periodEnd(t: number, periodMs: number): number {
  return (Math.floor(t / periodMs) + 1) * periodMs;
}

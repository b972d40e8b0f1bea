/** A local run of the whole app: schedules on a clock, the failure rules, the alarms. */
export { type AlarmSpec, type AlarmState, evaluateAlarm, UnsupportedAlarmError } from './alarms.ts';
export { fireTimes, InvalidScheduleExpressionError, parseScheduleExpression } from './cron.ts';
export { InvalidEventPatternError, matchesEventPattern } from './event-pattern.ts';
export { InvalidInputTransformerError, transformInput } from './input-transformer.ts';
export { captureEmf, type Datapoint, datapointsOfEmf, MetricStore } from './metrics.ts';
export {
  type AlarmTransition,
  type DeadLetter,
  type RefusedStart,
  type StartAfterWindow,
  type Undelivered,
  type Delivery,
  type LocalAppExecution,
  type LocalAppRun,
  type LocalAppRunOptions,
  runLocalApp,
} from './run-app.ts';
export { executionStatusChangeEvent } from './status-event.ts';
export { TopicDeliveryPolicies } from './topic-delivery.ts';

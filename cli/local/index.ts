/** The local workflow runner: synthesized CDK state machines, real handlers, a local store. */
export type { ChildFailure, TaskStep } from './execution.ts';
export { type AslDefinition, InvalidDefinitionError, type Json, validateDefinition } from './asl.ts';
export { type ExecutionHistoryStats, type LocalHistoryEvent, STEP_FUNCTIONS_LIMITS } from './history.ts';
export type { SnsMessage } from './integrations.ts';
export {
  AccessDeniedError,
  AppPolicies,
  type AuthorizationDecision,
  type AuthorizationRequest,
  sessionArn,
} from './policies.ts';
export { describeChildFailures, describeHistory, describeOutcome, describeSnsMessage } from './report.ts';
export {
  type RunResult,
  type RunSynthesizedWorkflowOptions,
  type RunWorkflowOptions,
  runSynthesizedWorkflow,
  policiesOf,
  runWorkflow,
} from './run.ts';
export { authorizeS3, type Requester, type S3Request } from './stand-ins.ts';
export {
  ENTRY_METADATA,
  HANDLER_METADATA,
  type LocalFunction,
  StateMachineNotFoundError,
  SynthesisFailedError,
  type SynthesizedTemplates,
  type SynthesizedWorkflow,
  synthesizeDefinition,
  synthesizeTemplates,
  workflowFromTemplates,
} from './synthesize.ts';

import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { WorkflowSchedules } from './backup-schedules.ts';
import { RestoreFailurePhase } from './workflows/restore/failure-phase.ts';
import { createRestoreFunctions } from './workflows/restore/functions.ts';
import { RestoreInputPhase } from './workflows/restore/input-phase.ts';
import { RestoreLevelsPhase } from './workflows/restore/levels-phase.ts';
import { RestoreMetadataPhase } from './workflows/restore/metadata-phase.ts';
import { RestorePlanPhase } from './workflows/restore/plan-phase.ts';
import { type RestoreWorkflowProps, validateRestoreWorkflowProps } from './workflows/restore/props.ts';
import { RestoreVerifyPhase } from './workflows/restore/verify-phase.ts';
import { workflowStateMachine } from './workflows/support/state-machine.ts';
import {
  acknowledgeDistributedMaps,
  acknowledgeStateMachineRole,
} from './workflows/support/acknowledgements.ts';

export type { RestoreDrillProps, RestoreWorkflowProps } from './workflows/restore/props.ts';

/**
 * The restore workflow of one org: a Standard state machine started from the console with a
 * JSON input (a dry run by default). It validates the input first and ends at once on a bad
 * one, plans against the live org, stops with the plan on a dry run, otherwise deploys metadata
 * (validated first), restores objects level by level (parents first) with a Distributed Map per
 * level, closes cycles in a second pass, restores files, verifies, and alerts on SNS when rows
 * failed. Its functions may read only the org's own backups (`orgs/<org name>/`) and restore
 * records, and write only those records (`restores/<org name>/`); they can never delete or alter
 * a backup.
 */
export class RestoreWorkflow extends Construct {
  /** The restore state machine. */
  readonly stateMachine: sfn.StateMachine;
  /** Every function of the workflow, for error alarms. */
  readonly functions: lambda.IFunction[];
  /** The drill schedule, when configured. */
  readonly drillSchedules?: WorkflowSchedules;

  constructor(scope: Construct, id: string, props: RestoreWorkflowProps) {
    super(scope, id);
    validateRestoreWorkflowProps(id, props);
    const fns = createRestoreFunctions(this, props);
    this.functions = Object.values(fns);

    // Phases are built last to first, since each names the state it goes on to. Only states live
    // in them: every resource stays a child of this construct, so no logical id depends on them.
    const failure = new RestoreFailurePhase(this, 'FailurePhase', {
      orgName: props.orgName,
      alertTopic: props.alertTopic,
      releaseFunction: fns.release,
    });
    const verify = new RestoreVerifyPhase(this, 'VerifyPhase', {
      orgName: props.orgName,
      filesFunction: fns.files,
      verifyFunction: fns.verify,
      alertTopic: props.alertTopic,
    });
    const levels = new RestoreLevelsPhase(this, 'LevelsPhase', {
      levelFunction: fns.level,
      objectFunction: fns.object,
    });
    const data = levels.next(verify);
    const metadata = new RestoreMetadataPhase(this, 'MetadataPhase', {
      metadataFunction: fns.metadata,
      next: data,
    });
    const plan = new RestorePlanPhase(this, 'PlanPhase', {
      planFunction: fns.plan,
      metadataFunction: fns.metadata,
      metadata,
      data,
    });
    const input = new RestoreInputPhase(this, 'InputPhase', { validateFunction: fns.validate });
    failure.catchFrom(input, plan, metadata, levels, verify);

    this.stateMachine = workflowStateMachine(this, {
      definition: input.next(plan),
      comment: `Restores Salesforce org ${props.orgName} from its backups; input documented in docs/restore.md`,
    });
    props.alertTopic.grantPublish(this.stateMachine);

    if (props.drill) {
      this.drillSchedules = new WorkflowSchedules(this, 'Drill', {
        stateMachine: this.stateMachine,
        timezone: props.drill.timezone ?? 'UTC',
        alarmTopic: props.alertTopic,
      });
      this.drillSchedules.add({
        id: 'RestoreDrill',
        expression: props.drill.schedule,
        input: { drill: true, snapshot: 'latest' },
        description: `Restore drill of org ${props.orgName} into its sandbox; the output records the recovery time`,
      });
    }
    acknowledgeStateMachineRole(this.stateMachine, this.functions, [
      {
        id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
        reason: `${this.stateMachine.node.path}: publishing to the KMS-encrypted alert topic needs the topic key's GenerateDataKey* actions, scoped to that key.`,
      },
    ]);
    acknowledgeDistributedMaps(this.stateMachine);
  }
}

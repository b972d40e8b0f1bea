import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { BackupWorkflow } from '../../lib/backup-workflow.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from '../infra/fixtures/app-fixture.ts';

type Findings = { ruleName: string; violatingResources: { constructPath?: string }[] }[];

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return (report.violations as Findings).flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

function exampleApp() {
  return buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
}

describe('the BackupWorkflow construct in the app', () => {
  const { backupStack } = exampleApp();
  const template = Template.fromStack(backupStack);
  const workflows = backupStack.node
    .findAll()
    .filter((c): c is BackupWorkflow => c instanceof BackupWorkflow);

  it('builds one Standard state machine per configured org, wired to the schedules', () => {
    expect(workflows.length).toBe((exampleConfigJson().orgs as unknown[]).length);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({ Input: Match.stringLikeRegexp('"mode":"incremental"') }),
    });
  });

  it('gives every org a dashboard and a state machine that logs every transition without execution data', () => {
    expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard')).length).toBeGreaterThanOrEqual(
      workflows.length,
    );
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
  });

  it('passes cdk-nag AwsSolutions checks with every exception acknowledged', () => {
    const findings = workflows.flatMap((w) => nagFindings(w));
    expect(findings).toEqual([]);
  });

  it('never grants a delete on the vault and limits object writes to the org prefix', () => {
    const statements = workflows.flatMap((w) =>
      w.node
        .findAll()
        .filter((c) => c instanceof iam.CfnPolicy)
        .flatMap(
          (c) =>
            (
              backupStack.resolve((c as iam.CfnPolicy).policyDocument) as {
                Statement: { Action: string | string[]; Resource: unknown }[];
              }
            ).Statement,
        ),
    );
    expect(statements.length).toBeGreaterThan(10);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => /^s3:Delete/.test(a))).toEqual([]);
    for (const statement of statements) {
      const list = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      if (list.includes('s3:PutObject'))
        expect(JSON.stringify(statement.Resource)).toMatch(/\/orgs\/[a-z0-9-]+\/\*/);
    }
  });

  it('gives the Distributed Maps their items from the plan key in the vault, and retries transient Salesforce errors', () => {
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const definition = JSON.stringify(Object.values(machines)[0]);
    expect(definition).toContain('ItemReader');
    expect(definition).toContain('SalesforceRateLimitError');
    expect(definition).toContain('ToleratedFailurePercentage');
  });
});

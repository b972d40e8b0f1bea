import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { LATEST_POINTER } from '../../contract/workflow-contract.ts';
import { BackupWorkflow } from '../../lib/backup-workflow.ts';
import { latestPointerKey } from '../../lambdas/core/snapshot/keys.ts';
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
  const { orgStacks } = exampleApp();
  const templates = orgStacks.map((stack) => Template.fromStack(stack));
  const workflows = orgStacks.flatMap((stack) =>
    stack.node.findAll().filter((c): c is BackupWorkflow => c instanceof BackupWorkflow),
  );

  it('builds one Standard state machine per configured org, wired to the schedules', () => {
    expect(workflows.length).toBe((exampleConfigJson().orgs as unknown[]).length);
    for (const template of templates) {
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
      });
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Target: Match.objectLike({ Input: Match.stringLikeRegexp('"mode":"incremental"') }),
      });
    }
  });

  it('gives every org a dashboard and a state machine that logs every transition without execution data', () => {
    for (const template of templates) {
      expect(Object.keys(template.findResources('AWS::CloudWatch::Dashboard')).length).toBeGreaterThanOrEqual(
        1,
      );
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
      });
    }
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
              Stack.of(c).resolve((c as iam.CfnPolicy).policyDocument) as {
                Statement: { Effect: string; Action: string | string[]; Resource: unknown }[];
              }
            ).Statement,
        ),
    );
    expect(statements.length).toBeGreaterThan(10);
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.filter((a) => /^s3:Delete/.test(a))).toEqual([]);
    for (const statement of statements) {
      const list = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
      if (statement.Effect === 'Allow' && list.includes('s3:PutObject'))
        expect(JSON.stringify(statement.Resource)).toMatch(/\/orgs\/[a-z0-9-]+\/\*/);
    }
  });

  it('denies every function an object creation without If-None-Match, except on the latest pointer', () => {
    for (const workflow of workflows) {
      const org = workflow.node.id.replace(/BackupWorkflow$/, '');
      for (const fn of workflow.functions) {
        const policy = fn.role?.node.tryFindChild('DefaultPolicy') as iam.Policy | undefined;
        const document = Stack.of(fn).resolve(policy?.document) as {
          Statement: {
            Sid?: string;
            Effect: string;
            Action: string;
            NotResource?: unknown;
            Condition?: unknown;
          }[];
        };
        const deny = document.Statement.find((st) => st.Sid === 'DenyUnconditionalObjectCreation');
        expect(deny, `${fn.node.path} lacks the conditional-write deny`).toMatchObject({
          Effect: 'Deny',
          Action: 's3:PutObject',
          Condition: { Null: { 's3:if-none-match': 'true' }, Bool: { 's3:ObjectCreationOperation': 'true' } },
        });
        expect(JSON.stringify(deny?.NotResource)).toContain(`/orgs/`);
        expect(JSON.stringify(deny?.NotResource)).toContain(`/${LATEST_POINTER}`);
      }
      expect(org.length).toBeGreaterThan(0);
    }
    // The exempt key is the very key the runtime moves after a verified snapshot.
    expect(latestPointerKey('acme')).toBe(`orgs/acme/${LATEST_POINTER}`);
  });

  it('gives the Distributed Maps their items from the plan key in the vault, and retries transient Salesforce errors', () => {
    for (const template of templates) {
      const machines = template.findResources('AWS::StepFunctions::StateMachine');
      const definition = JSON.stringify(Object.values(machines)[0]);
      expect(definition).toContain('ItemReader');
      expect(definition).toContain('SalesforceRateLimitError');
      expect(definition).toContain('ToleratedFailurePercentage');
    }
  });
});

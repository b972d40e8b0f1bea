import { synthesizeDefinition } from '../../cli/local/index.ts';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { ErrorName } from '../../contract/workflow-contract.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { ERASE_INPUT_REJECTED_ERRORS, EraseWorkflow, eraseRoleNameOf } from '../../lib/erase-workflow.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

type Findings = { ruleName: string; violatingResources: { constructPath?: string }[] }[];

function nagFindings(scope: IConstruct): string[] {
  const report = new AwsSolutionsChecks().validateScope(scope);
  return (report.violations as Findings).flatMap((v) =>
    v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`),
  );
}

const appWith = (objectLock?: { mode: 'GOVERNANCE' | 'COMPLIANCE'; days: number }) =>
  buildApp(
    parseConfig({ ...exampleConfigJson(), ...(objectLock ? { retention: { objectLock } } : {}) }),
    appWithoutBundling(),
    { nag: false },
  );

describe('EraseWorkflow', () => {
  it('runs one function under the named erase role, which the vault stack names before it exists', () => {
    // GIVEN the example app WHEN synthesized
    const { orgStacks } = appWith({ mode: 'GOVERNANCE', days: 7 });
    const prod = orgStacks.find((s) => s.org.name === 'dreamhouse-prod')!;
    const template = Template.fromStack(prod);
    // THEN the erase function's role has the fixed name, and its environment names the lock mode
    template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'SfBackup-Erase-DreamhouseProd' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ ORG_KEY: 'dreamhouse-prod', VAULT_OBJECT_LOCK_MODE: 'GOVERNANCE' }),
      },
    });
    expect(prod.erase.functions).toHaveLength(1);
  });

  it('ends an execution at its first step on a rejected input, a locked vault or ids found nowhere, and fails on a trace', () => {
    // GIVEN the synthesized erase state machine WHEN its definition is read
    const { orgStacks } = appWith();
    const template = Template.fromStack(orgStacks[0]!);
    const machines = template.findResources('AWS::StepFunctions::StateMachine');
    const erase = Object.entries(machines).find(([id]) => id.startsWith('DreamhouseProdErase'))?.[1];
    const text = JSON.stringify(erase?.Properties?.DefinitionString);
    // THEN the plan step catches exactly the input errors into InputRejected, and the dry run stops before erasing
    expect(ERASE_INPUT_REJECTED_ERRORS).toEqual([
      ErrorName.InvalidEraseRequest,
      ErrorName.ErasureImpossible,
      ErrorName.ErasureTargetNotFound,
    ]);
    for (const name of [
      'PlanErasure',
      'EraseVersions',
      'ScanAndLog',
      'InputRejected',
      'DryRunDone',
      'ErasureFailed',
      'ReleaseRestoreLeases',
    ])
      expect(text).toContain(name);
    // Every step that may have taken the restore leases gives them back on its way to failing.
    const prod = orgStacks.find((st) => st.org.name === 'dreamhouse-prod')!;
    const definition = synthesizeDefinition(prod, prod.erase.stateMachine).definition as unknown as {
      States: Record<string, { Catch?: { ErrorEquals: string[]; Next: string }[]; Next?: string }>;
    };
    for (const step of ['PlanErasure', 'EraseVersions', 'ScanAndLog']) {
      const all = definition.States[step]?.Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
      expect(all?.Next, step).toBe('ReleaseRestoreLeases');
    }
    expect(definition.States.ReleaseRestoreLeases?.Next).toBe('ErasureFailed');
    // A real erasure that found its org busy (before it claimed anything, or holding it while a
    // backup that began before its claim ends) answers waiting: the machine waits 5 minutes and
    // plans again, with no retry of an error. Its function gives up 12 hours from the execution's
    // start, which ReadInput hands it, and the release state gives back what it holds.
    const states = definition.States as unknown as Record<string, Record<string, unknown>>;
    const choices = (states['Planned?']?.Choices ?? []) as { And?: unknown[]; Next: string }[];
    const waitChoice = choices.find((c) => c.Next === 'WaitForOrg');
    expect(waitChoice?.And).toEqual([
      { Variable: '$.waiting', IsPresent: true },
      { Variable: '$.waiting', BooleanEquals: true },
    ]);
    expect(states.WaitForOrg).toMatchObject({ Type: 'Wait', Seconds: 300, Next: 'ReadInput' });
    expect(states.ReadInput?.Parameters).toMatchObject({ 'startedAt.$': '$$.Execution.StartTime' });
    expect(JSON.stringify(states.PlanErasure?.Retry)).not.toContain(ErrorName.ErasureMustWait);
    const caught = definition.States.PlanErasure?.Catch?.find((c) =>
      c.ErrorEquals.some((e) => e === ErrorName.ErasureMustWait || e === 'States.ALL'),
    );
    expect(caught).toMatchObject({ ErrorEquals: ['States.ALL'], Next: 'ReleaseRestoreLeases' });
    // A step that answers done: false (its time ran out; its progress is in the vault) runs again.
    const loops = definition.States as unknown as Record<
      string,
      { Choices?: { Variable: string; BooleanEquals?: boolean; Next: string }[]; Default?: string }
    >;
    const again = (choice: string) => loops[choice]?.Choices?.find((c) => c.BooleanEquals === false)?.Next;
    expect(definition.States.PlanErasure?.Next).toBe('Planned?');
    expect(again('Planned?')).toBe('ReadInput');
    expect(loops['Planned?']?.Default).toBe('DryRun?');
    expect(definition.States.EraseVersions?.Next).toBe('VersionsErased?');
    expect(again('VersionsErased?')).toBe('EraseVersions');
    expect(loops['VersionsErased?']?.Default).toBe('ScanAndLog');
    expect(definition.States.ScanAndLog?.Next).toBe('Scanned?');
    expect(again('Scanned?')).toBe('ScanAndLog');
    expect(loops['Scanned?']?.Default).toBe('Erased');
    for (const error of ERASE_INPUT_REJECTED_ERRORS) expect(text).toContain(error);
  });

  it('warns at synthesis that erasure is impossible when the vault is locked in COMPLIANCE mode', () => {
    const { orgStacks } = appWith({ mode: 'COMPLIANCE', days: 7 });
    const warnings = Annotations.fromStack(orgStacks[0]!).findWarning(
      '*',
      Match.stringLikeRegexp('COMPLIANCE mode.*refuses every erasure.*GOVERNANCE'),
    );
    expect(warnings).toHaveLength(1);
    const none = Annotations.fromStack(appWith({ mode: 'GOVERNANCE', days: 7 }).orgStacks[0]!).findWarning(
      '*',
      Match.stringLikeRegexp('refuses every erasure'),
    );
    expect(none).toEqual([]);
  });

  it('passes the AwsSolutions checks in GOVERNANCE mode, where the role may bypass the lock', () => {
    const { app, orgStacks, vaultStack } = appWith({ mode: 'GOVERNANCE', days: 7 });
    app.synth();
    for (const stack of [vaultStack, ...orgStacks]) expect(nagFindings(stack)).toEqual([]);
  }, 120_000);

  it('refuses a role name IAM cannot hold, saying what to shorten', () => {
    expect(() => eraseRoleNameOf('A'.repeat(50), 'dreamhouse-prod')).toThrow(
      /longer than IAM's 64: shorten stackPrefix/,
    );
    const { orgStacks } = appWith();
    const stack = orgStacks[0]!;
    expect(
      () =>
        new EraseWorkflow(stack, 'Bad', {
          orgName: 'Not An Org',
          bucket: stack.vault.bucket,
          key: stack.vault.key,
          roleName: 'x',
        }),
    ).toThrow(/Bad: orgName/);
  });
});

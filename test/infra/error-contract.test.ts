import { describe, expect, it } from 'vitest';
import { ErrorName, LAMBDA_CRASH_ERRORS, LAMBDA_SERVICE_ERRORS } from '../../contract/workflow-contract.ts';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

interface CfnResource {
  readonly Type: string;
  readonly Properties?: { readonly DefinitionString?: unknown };
}

/** The definition as Step Functions receives it; tokens only occur inside strings, so any text stands in. */
function definitionOf(definitionString: unknown): unknown {
  if (typeof definitionString === 'string') return JSON.parse(definitionString);
  const join = (definitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  return JSON.parse(join[1].map((part) => (typeof part === 'string' ? part : 'token')).join(join[0]));
}

/** Every name in every Retry and Catch of a definition, Map and Parallel states included, with its state. */
function handledErrors(node: unknown, path: string): { path: string; name: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => handledErrors(item, `${path}[${i}]`));
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => {
    if ((key === 'Retry' || key === 'Catch') && Array.isArray(value)) {
      const names = value.flatMap((rule: { ErrorEquals?: string[] }) => rule.ErrorEquals ?? []);
      return names.map((name) => ({ path: `${path}.${key}`, name }));
    }
    return handledErrors(value, `${path}.${key}`);
  });
}

describe('the error names the synthesized state machines handle', () => {
  const { app } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  const machines = app.synth().stacks.flatMap((stack) =>
    Object.entries((stack.template as { Resources?: Record<string, CfnResource> }).Resources ?? {})
      .filter(([, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine')
      .map(([id, resource]) => ({ id, definition: definitionOf(resource.Properties?.DefinitionString) })),
  );
  const known = new Set<string>([
    ...Object.values(ErrorName),
    ...LAMBDA_SERVICE_ERRORS,
    ...LAMBDA_CRASH_ERRORS,
  ]);

  it('finds every state machine of the example app, each with error handling', () => {
    expect(machines.map((m) => m.id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'DreamhouseProdBackupStateMachine',
      'DreamhouseProdDiffReportStateMachine',
      'DreamhouseProdEraseStateMachine',
      'DreamhouseProdRestoreStateMachine',
      'DreamhouseProdRetentionStateMachine',
      'DreamhouseUatBackupStateMachine',
      'DreamhouseUatDiffReportStateMachine',
      'DreamhouseUatEraseStateMachine',
      'DreamhouseUatRestoreStateMachine',
      'DreamhouseUatRetentionStateMachine',
    ]);
    for (const { id, definition } of machines)
      expect(handledErrors(definition, id).length).toBeGreaterThan(0);
  });

  it('reaches the Retry and Catch rules inside Distributed Map item processors', () => {
    const paths = machines.flatMap((m) => handledErrors(m.definition, m.id)).map((e) => e.path);
    expect(paths.some((p) => p.includes('.ItemProcessor.States.'))).toBe(true);
  });

  it("names only Step Functions' own errors, Lambda's service and crash errors and the contract's errors", () => {
    // GIVEN every Retry and Catch of every state machine WHEN its names are checked
    const unknown = machines
      .flatMap((m) => handledErrors(m.definition, m.id))
      .filter(({ name }) => !name.startsWith('States.') && !known.has(name))
      .map(({ path, name }) => `${name} at ${path}`);
    // THEN each is one the runtime can throw or the service reports
    expect(unknown).toEqual([]);
  });
});

describe("the restore's row check", () => {
  const { app } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  const restores = app
    .synth()
    .stacks.flatMap((stack) =>
      Object.entries((stack.template as { Resources?: Record<string, CfnResource> }).Resources ?? {}),
    )
    .filter(
      ([id, resource]) => resource.Type === 'AWS::StepFunctions::StateMachine' && id.includes('Restore'),
    )
    .map(
      ([, resource]) =>
        definitionOf(resource.Properties?.DefinitionString) as { States: Record<string, State> },
    );
  interface State {
    readonly Retry?: { ErrorEquals: string[] }[];
    readonly Catch?: { ErrorEquals: string[]; Next: string }[];
    readonly Next?: string;
  }

  it('is run again when its invocation died or timed out, and fails into the restore failure path', () => {
    expect(restores).toHaveLength(2);
    for (const { States } of restores) {
      const [name, state] = Object.entries(States).find(([n]) => n.endsWith('VerifyRows'))!;
      expect(state.Retry?.flatMap((r) => r.ErrorEquals)).toEqual(
        expect.arrayContaining([...LAMBDA_CRASH_ERRORS]),
      );
      expect(
        state.Catch?.some((c) => c.ErrorEquals.includes('States.ALL')),
        name,
      ).toBe(true);
    }
  });
});

import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

/**
 * A resource's logical id is its identity to CloudFormation: a construct renamed or moved in the
 * tree gets a new one, and the next deploy replaces the resource (a new state machine, new roles,
 * a new alarm history). This pins every logical id, with its type, of the stacks that the example
 * config synthesizes. A change here is deliberate: update the fixture in the same commit and say
 * in the commit why replacing those resources is safe.
 */
const PINNED = path.join(import.meta.dirname, 'fixtures', 'logical-ids.json');

function logicalIds(template: { Resources?: Record<string, { Type: string }> }): Record<string, string> {
  return Object.fromEntries(
    Object.entries(template.Resources ?? {})
      .map(([id, resource]) => [id, resource.Type] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  );
}

describe('logical ids of the synthesized stacks', () => {
  const pinned = JSON.parse(readFileSync(PINNED, 'utf8')) as Record<string, Record<string, string>>;
  const { app } = buildApp(parseConfig(exampleConfigJson()), appWithoutBundling(), { nag: false });
  const assembly = app.synth();

  it('synthesizes exactly the pinned stacks', () => {
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual(Object.keys(pinned).sort());
  });

  for (const stackName of Object.keys(pinned)) {
    it(`keeps every logical id and resource type of ${stackName}`, () => {
      const actual = logicalIds(assembly.getStackByName(stackName).template);
      const expected = pinned[stackName] ?? {};
      const added = Object.keys(actual).filter((id) => !(id in expected));
      const removed = Object.keys(expected).filter((id) => !(id in actual));
      expect({ added, removed }).toEqual({ added: [], removed: [] });
      expect(actual).toEqual(expected);
    });
  }
});

import { Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { parseConfig } from '../../lib/config.ts';
import { appWithoutBundling, exampleConfigJson } from './fixtures/app-fixture.ts';

interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

/** A template value as text: a `Fn::Join` joined, any other intrinsic as `<ref>`. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map(text).join(join[0]);
  return '<ref>';
}

const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** Every resource and `s3:prefix` of a statement, as text. */
function targets(statement: Statement): string[] {
  const prefixes = Object.values(statement.Condition ?? {}).flatMap((c) => list(c['s3:prefix']));
  return [...list(statement.Resource), ...prefixes].map(text);
}

const pascal = (name: string) =>
  name
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

describe("each org's restore policy", () => {
  const config = parseConfig(exampleConfigJson());
  const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
  // Every policy of every org stack, by logical id (each begins with its org's name).
  const entries = orgStacks.flatMap((stack) =>
    Object.entries(
      Template.fromStack(stack).findResources('AWS::IAM::Policy') as Record<
        string,
        { Properties: { PolicyDocument: { Statement: Statement[] } } }
      >,
    ),
  );
  const policies = Object.fromEntries(entries);
  const names = config.orgs.map((o) => o.name);

  it('names only restores/<its org name>/ for reading, listing and writing restore records', () => {
    expect(names.length).toBeGreaterThan(1);
    expect(Object.keys(policies)).toHaveLength(entries.length);
    for (const name of names) {
      const id = Object.keys(policies).find((k) => k.startsWith(`${pascal(name)}RestoreVaultAccess`));
      expect(id, `the restore policy of ${name}`).toBeDefined();
      const statements = policies[String(id)]!.Properties.PolicyDocument.Statement;
      const bySid = (sid: string) => statements.find((s) => s.Sid === sid);
      expect(targets(bySid('ReadBackups')!)).toEqual([`<ref>/orgs/${name}/*`, `<ref>/restores/${name}/*`]);
      expect(list(bySid('ReadBackups')!.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
      expect(targets(bySid('ListBackups')!)).toEqual(['<ref>', `orgs/${name}/*`, `restores/${name}/*`]);
      expect(targets(bySid('WriteRestoreRecords')!)).toEqual([`<ref>/restores/${name}/*`]);
      expect(bySid('WriteRestoreRecords')!.Action).toBe('s3:PutObject');
    }
  });

  it("grants no policy of the app anything under restores/ but one org's own prefix, to that org's restore and erase", () => {
    const owners = new Set<string>();
    const readers = new Set<string>();
    for (const [id, policy] of Object.entries(policies)) {
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (statement.Effect !== 'Allow') continue;
        const restoreTargets = targets(statement).filter((t) => t.includes('restores/'));
        // The backup's comparison function reads the id maps of its own org's restores, and lists
        // its own org's restore records (for the lease claims): read only.
        const reader = names.find((n) => id.startsWith(`${pascal(n)}BackupCompareFunction`));
        if (reader && restoreTargets.length > 0) {
          const actions = list(statement.Action).sort();
          expect(
            [['s3:GetObject', 's3:GetObjectVersion'], ['s3:ListBucket']].map((a) => a.join()),
            id,
          ).toContain(actions.join());
          for (const target of restoreTargets)
            expect(target, id).toMatch(
              new RegExp(`(^|/)restores/${reader}/\\*/(id-map|lease|lease/released)/\\*$`),
            );
          readers.add(reader);
          continue;
        }
        // The erase function reads, rewrites and removes versions of its own org's restore records,
        // which hold the person too (docs/erasure.md).
        const eraser = names.find((n) => id.startsWith(`${pascal(n)}EraseVaultAccess`));
        if (eraser && restoreTargets.length > 0) {
          for (const target of restoreTargets)
            expect(target, id).toMatch(new RegExp(`(^|/)restores/${eraser}/\\*$`));
          continue;
        }
        for (const target of restoreTargets) {
          const owner = names.find((n) => id.startsWith(`${pascal(n)}Restore`));
          expect(owner, `${id} grants ${target}`).toBeDefined();
          expect(target, id).toMatch(new RegExp(`(^|/)restores/${owner}/\\*$`));
          owners.add(String(owner));
        }
      }
    }
    expect([...owners].sort()).toEqual([...names].sort());
    expect([...readers].sort()).toEqual([...names].sort());
  });

  it("acknowledges the wildcard on the org's own restore records only, with a reason naming them", () => {
    for (const name of names) {
      const policy = orgStacks
        .flatMap((stack) => stack.node.findAll())
        .find((c) => c.node.path.endsWith(`/${pascal(name)}Restore/VaultAccess`));
      expect(policy, name).toBeDefined();
      const acks = policy!.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>));
      const restores = acks.filter(([rule]) => rule.includes('restores/'));
      expect(restores).toHaveLength(1);
      expect(restores[0]?.[0]).toMatch(new RegExp(`/restores/${name}/\\*\\]$`));
      expect(restores[0]?.[1]).toContain(`restores/${name}/`);
    }
  });
});

import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { manifestJsonSchema } from '../../lambdas/core/snapshot/json-schema.ts';
import { InvalidSnapshotManifestError, parseManifest } from '../../lambdas/core/snapshot/manifest.ts';

describe('the snapshot manifest format', () => {
  it('is published as a JSON Schema that matches the definition the code validates with', () => {
    const published = JSON.parse(readFileSync('schemas/snapshot-manifest.schema.json', 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(manifestJsonSchema())));
  });

  it('rejects a manifest with a wrong field, naming the field', () => {
    expect(() => parseManifest(JSON.stringify({ formatVersion: 1, snapshotId: 'x' }), 'm.json')).toThrow(
      InvalidSnapshotManifestError,
    );
    expect(() => parseManifest('{', 'm.json')).toThrow(/m.json is not JSON/);
    expect(() => parseManifest(JSON.stringify({ formatVersion: 3 }), 'm.json')).toThrow(/formatVersion/);
  });

  it('says in the published schema where each format lists its files, as the code checks it', () => {
    const published = JSON.parse(readFileSync('schemas/snapshot-manifest.schema.json', 'utf8'));
    const ajv = new Ajv2020({ strict: false });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const valid = ajv.compile(published);
    const base = {
      snapshotId: '20261101T020000000Z-abcdef',
      runId: 'run-1',
      org: 'acme',
      orgId: '00D000000000001AAA',
      apiVersion: '62.0',
      mode: 'full',
      requestedMode: 'full',
      baseSnapshotId: null,
      startedAt: '2026-11-01T02:00:00.000Z',
      finishedAt: '2026-11-01T02:10:00.000Z',
      watermark: '2026-11-01T02:00:00.000Z',
      overlapSeconds: 0,
      objects: [],
      skippedObjects: [],
      metadata: { included: false, components: 0, parts: [] },
      apiCalls: { total: 0, plan: 0, export: 0, files: 0, metadata: 0, finish: 0 },
      errors: [],
    };
    const entry = {
      object: 'ContentVersion',
      recordId: '068000000000001AAA',
      field: 'VersionData',
      key: `orgs/acme/files/sha256/ab/${'ab'.repeat(32)}`,
      sha256: 'ab'.repeat(32),
      bytes: 3,
      downloaded: true,
    };
    const list = {
      key: 'orgs/acme/snapshots/s/files/batch-00001.json',
      sha256: 'cd'.repeat(32),
      bytes: 9,
      count: 1,
    };
    const cases: [unknown, boolean][] = [
      [{ ...base, formatVersion: 1, files: [entry] }, true],
      [{ ...base, formatVersion: 1, files: [], fileLists: [list] }, false],
      [{ ...base, formatVersion: 2, files: [], fileLists: [list] }, true],
      [{ ...base, formatVersion: 2, files: [entry], fileLists: [list] }, false],
      [{ ...base, formatVersion: 2, files: [] }, false],
    ];
    for (const [manifest, ok] of cases) {
      expect(valid(manifest), JSON.stringify(ajv.errorsText(valid.errors))).toBe(ok);
      const parsed = () => parseManifest(JSON.stringify(manifest), 'm.json');
      if (ok) expect(parsed).not.toThrow();
      else expect(parsed).toThrow(InvalidSnapshotManifestError);
    }
  });
});

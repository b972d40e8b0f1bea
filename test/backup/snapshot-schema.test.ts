import { readFileSync } from 'node:fs';
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
});

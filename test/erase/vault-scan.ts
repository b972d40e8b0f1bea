/**
 * The tests' own scan of a vault, independent of the erasure's: every version of every key,
 * decompressed where gzip, searched as plain text.
 */
import { gunzipSync } from 'node:zlib';
import type { LocalDirectoryStore } from '../../lambdas/adapters/local-store.ts';
import type { VersionedStore } from '../../lambdas/core/store.ts';

/** Every version under a prefix as text, by `key` (one-version stores) or `key@version`. */
export async function everyVersion(store: VersionedStore, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const v of store.listVersions(prefix)) {
    if (v.deleteMarker) {
      out.set(`${v.key}@${v.versionId}`, '(delete marker)');
      continue;
    }
    let body = Buffer.from(await store.getVersion(v.key, v.versionId));
    if (body[0] === 0x1f && body[1] === 0x8b) body = gunzipSync(body);
    out.set(v.versionId === 'null' ? v.key : `${v.key}@${v.versionId}`, body.toString('utf8'));
  }
  return out;
}

/**
 * Versions that still hold the person: her id (15 characters, so the 18 too) anywhere but in the
 * erasure records, which name her id by design, or any of her values anywhere, in any case.
 */
export async function findPerson(
  store: VersionedStore,
  person: { readonly person: string; readonly values: readonly string[] },
  prefix: string,
): Promise<string[]> {
  const found: string[] = [];
  for (const [key, text] of await everyVersion(store, prefix)) {
    const lower = text.toLowerCase();
    if (!key.includes('/erasures/') && text.includes(person.person.slice(0, 15))) found.push(`${key}: id`);
    if (person.values.some((v) => lower.includes(v.toLowerCase()))) found.push(`${key}: value`);
  }
  return found;
}

/**
 * The directory store as a versioned bucket: a replaced body stays as an earlier version, listed,
 * readable and removable, until it is removed; plain reads see the current body.
 */
export function keepingVersions(store: LocalDirectoryStore): VersionedStore {
  const earlier = new Map<string, Map<string, Uint8Array>>();
  let next = 0;
  return {
    location: store.location,
    async *listVersions(prefix, options) {
      for await (const v of store.listVersions(prefix, options)) {
        yield v;
        for (const [versionId, body] of earlier.get(v.key) ?? []) {
          yield { key: v.key, versionId, latest: false, bytes: body.length, deleteMarker: false };
        }
      }
    },
    getVersion: async (key, versionId) =>
      earlier.get(key)?.get(versionId) ?? store.getVersion(key, versionId),
    versionLock: (key, versionId) => store.versionLock(key, versionId),
    replace: async (key, body, options) => {
      if (await store.head(key)) {
        const versions = earlier.get(key) ?? new Map<string, Uint8Array>();
        versions.set(`v${++next}`, await store.get(key));
        earlier.set(key, versions);
      }
      return store.replace(key, body, options);
    },
    deleteVersion: async (key, versionId) => {
      if (earlier.get(key)?.delete(versionId)) return;
      await store.deleteVersion(key, versionId);
    },
  };
}

/**
 * Versions held as `<key> <version id>` (a replica, or a vault's versions), listed by prefix and
 * given up one by one as S3 gives up a version.
 */
export function versionsHolding(held: Set<string>): VersionedStore & { held: Set<string> } {
  const split = (entry: string) => [
    entry.slice(0, entry.lastIndexOf(' ')),
    entry.slice(entry.lastIndexOf(' ') + 1),
  ];
  return {
    held,
    location: 'memory://versions',
    async *listVersions(prefix) {
      for (const entry of [...held].sort()) {
        const [key, versionId] = split(entry);
        if (key!.startsWith(prefix))
          yield { key: key!, versionId: versionId!, latest: false, bytes: 1, deleteMarker: false };
      }
    },
    getVersion: async () => new Uint8Array(),
    replace: async (key) => ({ key, bytes: 0, sha256: '' }),
    versionLock: async () => ({ legalHold: false }),
    deleteVersion: async (key, versionId) => void held.delete(`${key} ${versionId}`),
  };
}

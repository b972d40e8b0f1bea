import { createHash } from 'node:crypto';
import { inTurns } from '../in-turns.ts';
import type { BackupStore } from '../store.ts';
import { restoreKeys } from './keys.ts';
import type { RestoreOrg, RowError } from './model.ts';
import { listKeys, readJson, writeJsonOnce } from './store-json.ts';
import { idKey, sameValue } from './values.ts';

/** Bodies read back from the org at once while settling an intent. */
const ORG_BODIES_READ_AT_ONCE = 8;

/** One insert batch's outcome: which old ids got which new ids, and which rows failed. */
export interface IdMapFile {
  readonly object: string;
  readonly batch: string;
  readonly entries: readonly (readonly [string, string])[];
  readonly failed: readonly { readonly oldId: string; readonly errors: readonly RowError[] }[];
  /** How the entries were learned: from the insert's answer, or by reconciling after a crash. */
  readonly source: 'insert' | 'reconciled';
}

/** What a batch was about to insert, written before the insert. */
export interface IntentFile {
  readonly object: string;
  readonly batch: string;
  /** The org's clock may differ: the reconcile looks a little before this. */
  readonly since: string;
  readonly userId: string;
  /** Field types of the written values, to compare them the way Salesforce stores them. */
  readonly types: Readonly<Record<string, string>>;
  readonly rows: readonly {
    readonly oldId: string;
    readonly values: Readonly<Record<string, string | null>>;
    /** Body field -> what the batch sent in it, by digest (never the bytes). */
    readonly bodies?: Readonly<Record<string, BodyDigest>>;
  }[];
}

/** A body the restore sent, as an intent names it: its SHA-256 (hex) and its size. */
export interface BodyDigest {
  readonly sha256: string;
  readonly bytes: number;
}

/** Old id -> new id for rows the restore inserted under new ids, across every object of an org. */
export class IdMap {
  private readonly map = new Map<string, string>();
  private readonly claimed = new Set<string>();
  /** Every new id recorded for an old row: more than one means the row was inserted twice. */
  private readonly recorded = new Map<string, Set<string>>();

  /** Loads every id map file under a restore root (see `restoreRoot`): the org's, as its restores keep it. */
  static async load(store: BackupStore, root: string): Promise<IdMap> {
    const idMap = new IdMap();
    for (const key of await listKeys(store, restoreKeys.idMapRoot(root))) {
      const file = await readJson<IdMapFile>(store, key);
      if (file) idMap.addAll(file.entries);
    }
    return idMap;
  }

  /** Adds entries learned from an insert. */
  addAll(entries: readonly (readonly [string, string])[]): void {
    for (const [oldId, newId] of entries) {
      this.map.set(idKey(oldId), newId);
      this.claimed.add(idKey(newId));
      const ids = this.recorded.get(idKey(oldId)) ?? new Set<string>();
      ids.add(newId);
      this.recorded.set(idKey(oldId), ids);
    }
  }

  /**
   * Rows inserted for an old row besides the one it maps to: left by two restores that inserted
   * the same row, each a duplicate if it is still in the org.
   */
  duplicates(): { readonly oldId: string; readonly id: string }[] {
    const out: { oldId: string; id: string }[] = [];
    for (const [oldId, ids] of this.recorded) {
      const current = this.map.get(oldId);
      for (const id of ids)
        if (current === undefined || idKey(id) !== idKey(current)) out.push({ oldId, id });
    }
    return out;
  }

  /** The new id of an old row, if the restore inserted it. */
  get(oldId: string): string | undefined {
    return this.map.get(idKey(oldId));
  }

  /** True when a live id was created by a restore. */
  isNewId(id: string): boolean {
    return this.claimed.has(idKey(id));
  }

  /** Number of mapped rows. */
  get size(): number {
    return this.map.size;
  }
}

/** Batches whose intent was written but whose outcome was not: the insert may or may not have run. */
export async function danglingIntents(store: BackupStore, root: string, object: string): Promise<string[]> {
  const intents = await listKeys(store, restoreKeys.intentPrefix(root, object));
  const done = new Set(
    (await listKeys(store, restoreKeys.idMapPrefix(root, object))).map((k) =>
      k.slice(k.lastIndexOf('/') + 1),
    ),
  );
  return intents.filter((k) => !done.has(k.slice(k.lastIndexOf('/') + 1)));
}

/**
 * Settles batches interrupted between their insert and the write of their outcome (a crash, a
 * timeout). It looks for rows the restore's user created since the intent with exactly the
 * values the batch sent, claims each once, and writes the outcome; rows not found were never
 * created and will be inserted again. This is what keeps a re-run from inserting twice.
 */
export async function reconcileIntents(
  store: BackupStore,
  org: RestoreOrg,
  root: string,
  object: string,
  idMap: IdMap,
): Promise<number> {
  let recovered = 0;
  for (const key of await danglingIntents(store, root, object)) {
    const read = await readJson<IntentFile>(store, key);
    if (!read) continue;
    const intent = withBodyDigests(read);
    const fields = Object.keys(intent.types);
    const bodyFields = [...new Set(intent.rows.flatMap((r) => Object.keys(r.bodies ?? {})))];
    // A body reads back as a link: its length is compared first, then its digest (read from the
    // org, only for a row that matches in everything else).
    const lengths = bodyFields.map((f) => `${f}Length`);
    const since = new Date(Date.parse(intent.since) - 5 * 60_000).toISOString();
    const candidates = (
      await org.fetchCreatedSince(object, since, intent.userId, [...fields, ...lengths])
    ).filter((c) => c.Id && !idMap.isNewId(c.Id));
    // Rows and the candidates alike in every field and body length; of those, the bodies are read
    // back (a few at once, each once) to tell apart rows that differ only in their bytes.
    const alike = intent.rows.map((row) =>
      candidates.filter(
        (c) =>
          fields.every((f) => sameValue(intent.types[f] ?? 'string', c[f], row.values[f])) &&
          bodyFields.every((f) => Number(c[`${f}Length`] ?? 0) === (row.bodies?.[f]?.bytes ?? 0)),
      ),
    );
    const reads = new Map<string, { id: string; field: string }>();
    for (const [i, row] of intent.rows.entries())
      for (const c of alike[i]!)
        for (const f of Object.keys(row.bodies ?? {}))
          reads.set(`${c.Id}/${f}`, { id: c.Id as string, field: f });
    const digests = new Map<string, string>();
    await inTurns([...reads], ORG_BODIES_READ_AT_ONCE, async ([at, { id, field }]) => {
      digests.set(at, await org.bodySha256(object, id, field));
    });
    const used = new Set<string>();
    const entries: [string, string][] = [];
    for (const [i, row] of intent.rows.entries()) {
      const match = alike[i]!.find(
        (c) =>
          !used.has(c.Id as string) &&
          Object.entries(row.bodies ?? {}).every(([f, body]) => digests.get(`${c.Id}/${f}`) === body.sha256),
      );
      if (match?.Id) {
        used.add(match.Id);
        entries.push([row.oldId, match.Id]);
      }
    }
    const file: IdMapFile = { object, batch: intent.batch, entries, failed: [], source: 'reconciled' };
    await writeJsonOnce(store, restoreKeys.idMap(root, object, intent.batch), file);
    idMap.addAll(entries);
    recovered += entries.length;
  }
  return recovered;
}

/**
 * An intent whose body fields are named by digest: one written before bodies were, which held a
 * body's base64 among its values, is read as if it named the digest of those bytes.
 */
function withBodyDigests(intent: IntentFile): IntentFile {
  const inline = Object.keys(intent.types).filter((f) => intent.types[f] === 'base64');
  if (inline.length === 0) return intent;
  return {
    ...intent,
    types: Object.fromEntries(Object.entries(intent.types).filter(([, t]) => t !== 'base64')),
    rows: intent.rows.map((r) => {
      const values: Record<string, string | null> = {};
      const bodies: Record<string, BodyDigest> = { ...r.bodies };
      for (const [f, v] of Object.entries(r.values)) {
        if (!inline.includes(f)) values[f] = v;
        else if (v) {
          const bytes = Buffer.from(v, 'base64');
          bodies[f] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
        }
      }
      return { oldId: r.oldId, values, bodies };
    }),
  };
}

import {
  type InputProblem,
  InvalidRestoreRequestError,
  OrgMismatchError,
  UnknownSnapshotError,
} from './errors.ts';
import { sameOrgId } from '../../../contract/org-id.ts';
import { JOURNAL_BATCHING_WINDOW_SECONDS } from '../../../contract/workflow-contract.ts';
import { writesToOrg, type RestoreRequest } from './input.ts';
import type { ObjectInfo, RestoreOrg, SnapshotSource, SnapshotView } from './model.ts';

/** What validation found: the snapshot to restore from and the live org's side of each object. */
export interface ValidatedRestore {
  readonly request: RestoreRequest;
  readonly snapshot: SnapshotView;
  readonly orgId: string;
  readonly userId: string;
  readonly live: ReadonlyMap<string, ObjectInfo>;
}

/**
 * Checks the input against the target org and the snapshot: the org confirmed for a write is the
 * org the credentials reach, and every snapshot, object, field and component named exists. Every
 * problem is collected and reported at once; nothing is written.
 */
export async function validateAgainstOrg(
  request: RestoreRequest,
  org: RestoreOrg,
  snapshots: SnapshotSource,
  /** Whose backups to read; the target org itself unless restoring elsewhere (a drill's sandbox). */
  sourceOrg?: string,
  now: Date = new Date(),
): Promise<ValidatedRestore> {
  journalSettledAt(request, now);
  const { orgId, userId } = await org.identity();
  const problems: InputProblem[] = [];
  if (writesToOrg(request.mode) && request.confirmOrgId && !sameOrgId(request.confirmOrgId, orgId)) {
    const mismatch = new OrgMismatchError(request.confirmOrgId, orgId);
    problems.push({
      field: 'confirmOrgId',
      problem: mismatch.message,
      fix: `check that the credentials reach the org you mean; if they do, write "confirmOrgId": "${orgId}".`,
    });
    throw new InvalidRestoreRequestError(problems);
  }
  let snapshot: SnapshotView;
  try {
    snapshot = await snapshots.resolve(sourceOrg ?? orgId, request.snapshot);
  } catch (error) {
    if ((error as Error).name !== UnknownSnapshotError.name) throw error;
    throw new InvalidRestoreRequestError([
      {
        field: 'snapshot',
        problem: (error as Error).message,
        fix: 'write "latest", the id of a complete snapshot of this org, or a point in time after its first full backup.',
      },
    ]);
  }
  const live = new Map<string, ObjectInfo>();
  const snapshotObjects = snapshot.objects();
  for (const object of request.objects) {
    const fields = snapshot.fields(object);
    if (!fields) {
      problems.push({
        field: 'objects',
        problem: `snapshot ${snapshot.id} holds no object "${object}".`,
        fix: `use an object the snapshot holds${suggest(object, snapshotObjects)}.`,
      });
      continue;
    }
    const info = await org.describe(object);
    if (!info) {
      problems.push({
        field: 'objects',
        problem: `the target org has no object "${object}".`,
        fix: `restore its metadata first (add "CustomObject:${object}" to metadata), or remove it from objects.`,
      });
      continue;
    }
    live.set(object, info);
  }
  for (const ref of request.fields ?? []) {
    const [object, field] = ref.includes('.') ? (ref.split('.') as [string, string]) : [undefined, ref];
    const targets = object ? [object] : request.objects;
    for (const o of targets) {
      const names = (snapshot.fields(o) ?? []).map((f) => f.name);
      if (snapshot.fields(o) && !names.includes(field)) {
        problems.push({
          field: 'fields',
          problem: `snapshot ${snapshot.id} holds no field "${field}" on ${o}.`,
          fix: `use a field of ${o}${suggest(field, names)}${object ? '' : `, or write it as "Object.${field}" for the object that has it`}.`,
        });
      }
    }
  }
  for (const c of request.where ?? []) {
    for (const o of request.objects) {
      const names = (snapshot.fields(o) ?? []).map((f) => f.name);
      if (snapshot.fields(o) && !names.includes(c.field)) {
        problems.push({
          field: 'records.where',
          problem: `the condition names field "${c.field}", which ${o} does not have in the snapshot.`,
          fix: `use a field of ${o}${suggest(c.field, names)}, or restore the objects one at a time.`,
        });
      }
    }
  }
  if (request.metadata.length > 0) {
    const held = new Set((await snapshot.components()).map((c) => `${c.type}:${c.fullName}`));
    for (const name of request.metadata) {
      if (!held.has(name)) {
        problems.push({
          field: 'metadata',
          problem: `snapshot ${snapshot.id} holds no metadata component "${name}".`,
          fix: `use a component the snapshot holds${suggest(name, [...held])}.`,
        });
      }
    }
  }
  if (problems.length > 0) throw new InvalidRestoreRequestError(problems);
  if (request.recordIds && problems.length === 0) await checkRecordIds(request, snapshot);
  return { request, snapshot, orgId, userId, live };
}

async function checkRecordIds(request: RestoreRequest, snapshot: SnapshotView): Promise<void> {
  const wanted = new Set((request.recordIds ?? []).map((id) => id.slice(0, 15)));
  for (const object of request.objects) {
    for await (const row of snapshot.rows(object)) {
      if (row.Id) wanted.delete(row.Id.slice(0, 15));
      if (wanted.size === 0) return;
    }
  }
  const missing = [...wanted].slice(0, 10);
  throw new InvalidRestoreRequestError([
    {
      field: 'records',
      problem: `${wanted.size} record id(s) are not rows of ${request.objects.join(', ')} in snapshot ${snapshot.id}: ${missing.join(', ')}${wanted.size > 10 ? ', ...' : ''}.`,
      fix: 'use ids of rows the snapshot holds (check the object), or pick an earlier snapshot.',
    },
  ]);
}

/** ", e.g. X" naming the closest known names, to turn a typo into a fix. */
function suggest(name: string, known: readonly string[]): string {
  const lower = name.toLowerCase();
  const close = known
    .map((k) => ({ k, d: distance(lower, k.toLowerCase()) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(name.length / 3)))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.k);
  return close.length > 0 ? ` (did you mean ${close.map((c) => `"${c}"`).join(' or ')}?)` : '';
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/** Seconds after an instant until the journal holds every change committed by then. */
export const JOURNAL_SETTLE_SECONDS = JOURNAL_BATCHING_WINDOW_SECONDS + 60;

/**
 * A restore to an instant reads the change-event journal up to it, which is complete only once the
 * queue has handed over every change committed by then: the writer's batching window, and a minute
 * for the relay. An instant in the future, or more recent than that, is refused with when to retry.
 */
function journalSettledAt(request: RestoreRequest, now: Date): void {
  if (request.snapshot.kind !== 'instant') return;
  const at = Date.parse(request.snapshot.at);
  const settled = at + JOURNAL_SETTLE_SECONDS * 1000;
  if (settled <= now.getTime()) return;
  const problem =
    at > now.getTime()
      ? `${request.snapshot.at} is in the future (it is ${now.toISOString()} now).`
      : `the change-event journal may not yet hold every change up to ${request.snapshot.at}: the queue gathers changes for up to ${JOURNAL_BATCHING_WINDOW_SECONDS / 60} minutes before the writer journals them.`;
  throw new InvalidRestoreRequestError([
    {
      field: 'pointInTime',
      problem,
      fix: `start the restore again at or after ${new Date(settled).toISOString()}, or name an earlier instant.`,
    },
  ]);
}

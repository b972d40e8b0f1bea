import { z } from 'zod';
import { orgKeyOfId } from '../../../contract/org-id.ts';
import { type InputProblem, InvalidRestoreRequestError } from './errors.ts';
import type { SnapshotSelector } from './model.ts';

/** What a restore may do. `dry-run` plans and writes nothing to the org. */
export const RESTORE_MODES = ['dry-run', 'restore-deleted', 'revert-changes', 'full'] as const;
/** One of the restore modes. */
export type RestoreMode = (typeof RESTORE_MODES)[number];

const ID = /^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$/;
/** A Salesforce org id: 00D, then 12 or 15 more letters and digits (the 15- or 18-character form). */
export const ORG_ID = /^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/;
const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const FIELD_REF = /^([A-Za-z][A-Za-z0-9_]*\.)?[A-Za-z][A-Za-z0-9_]*$/;
const COMPONENT = /^[A-Za-z][A-Za-z0-9]*:\S.*$/;
/** An instant to the second or finer, with its time zone. */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;
const POINT_IN_TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * The largest input a restore takes: Step Functions refuses a larger execution input (256 KB),
 * so the CLI refuses one too, before it parses it.
 */
export const MAX_INPUT_BYTES = 256 * 1024;
/** How deep an input may nest; the deepest request (records.where[].value[]) is five levels. */
export const MAX_INPUT_DEPTH = 10;
/** Longest lists of an input. */
const MAX_OBJECTS = 2000;
/** The most record ids one restore input may list. */
export const MAX_RECORD_IDS = 10_000;
const MAX_CONDITIONS = 100;
/** The most fields one restore input may list. */
export const MAX_FIELDS = 2000;
const MAX_COMPONENTS = 10_000;
const MAX_STRING = 1000;

const at = (n: number, what: string) => ({ error: `at most ${n} ${what}; split the restore into several` });
const recordId = z.string().max(18).regex(ID, 'a 15- or 18-character record id');

const condition = z.strictObject({
  field: z.string().regex(API_NAME, 'a field API name such as Email or Status__c'),
  op: z
    .enum([
      'equals',
      'notEquals',
      'in',
      'isNull',
      'isNotNull',
      'contains',
      'startsWith',
      'greaterThan',
      'lessThan',
    ])
    .default('equals'),
  value: z
    .union([
      z.string().max(MAX_STRING),
      z.number(),
      z.boolean(),
      z.array(z.string().max(MAX_STRING)).max(MAX_RECORD_IDS),
      z.null(),
    ])
    .optional(),
});

/** A condition over a snapshot row's field value. */
export type RowCondition = z.infer<typeof condition>;

const schema = z.strictObject({
  snapshot: z.string().min(1).max(MAX_STRING).default('latest'),
  pointInTime: z.string().min(1).max(MAX_STRING).optional(),
  objects: z
    .array(z.string().max(255).regex(API_NAME, 'an object API name such as Account or Property__c'))
    .max(MAX_OBJECTS, at(MAX_OBJECTS, 'objects'))
    .default([]),
  records: z
    .union([
      z.array(recordId).min(1).max(MAX_RECORD_IDS, at(MAX_RECORD_IDS, 'record ids')),
      z.strictObject({
        ids: z.array(recordId).min(1).max(MAX_RECORD_IDS, at(MAX_RECORD_IDS, 'record ids')).optional(),
        where: z.array(condition).min(1).max(MAX_CONDITIONS, at(MAX_CONDITIONS, 'conditions')).optional(),
      }),
    ])
    .optional(),
  fields: z
    .array(z.string().max(255).regex(FIELD_REF, 'Field or Object.Field'))
    .min(1)
    .max(MAX_FIELDS, at(MAX_FIELDS, 'fields'))
    .optional(),
  includeChildren: z.boolean().default(false),
  files: z.boolean().default(true),
  metadata: z
    .array(
      z.string().max(MAX_STRING).regex(COMPONENT, 'Type:FullName such as CustomField:Broker__c.Email__c'),
    )
    .max(MAX_COMPONENTS, at(MAX_COMPONENTS, 'components'))
    .optional(),
  mode: z.enum(RESTORE_MODES).default('dry-run'),
  confirmOrgId: z.string().max(MAX_STRING).optional(),
});

/** The restore input after parsing: every default applied, shapes checked. */
export interface RestoreRequest {
  readonly snapshot: SnapshotSelector;
  /** The snapshot as written in the input, for messages. */
  readonly snapshotText: string;
  readonly objects: readonly string[];
  readonly recordIds?: readonly string[];
  readonly where?: readonly RowCondition[];
  /** `Object.Field` or `Field` (every listed object). */
  readonly fields?: readonly string[];
  readonly includeChildren: boolean;
  readonly files: boolean;
  readonly metadata: readonly string[];
  readonly mode: RestoreMode;
  readonly confirmOrgId?: string;
}

const FIXES: Record<string, string> = {
  snapshot: 'write "latest", a snapshot id, or an ISO point in time such as "2026-01-31T12:00:00Z".',
  pointInTime:
    'write an instant with its time zone, such as "2026-01-31T12:00:05Z": the org as of that second, from the snapshot before it and the change-event journal.',
  objects: 'list object API names, e.g. ["Account", "Contact"].',
  records:
    'give an array of record ids, or {"ids": [...]} and/or {"where": [{"field": "Status__c", "op": "equals", "value": "Sold"}]}.',
  fields: 'list field API names, e.g. ["Email"] or ["Contact.Email"].',
  includeChildren: 'write true or false.',
  files: 'write true or false.',
  metadata: 'list components as "Type:FullName", e.g. ["CustomField:Broker__c.Email__c"].',
  mode: 'write one of "dry-run", "restore-deleted", "revert-changes", "full".',
  confirmOrgId: 'write the target org id: 15 or 18 characters starting with 00D, in any case.',
};

function fixFor(path: readonly PropertyKey[]): string {
  const top = String(path[0] ?? '');
  return FIXES[top] ?? 'remove it; see the restore guide for the accepted fields.';
}

/** Parses the input (an object, or JSON text) and checks everything that needs no org or snapshot. */
export function parseRestoreInput(raw: unknown): RestoreRequest {
  let value = raw;
  if (typeof raw === 'string') {
    const size = inputSizeProblem(Buffer.byteLength(raw));
    if (size) throw new InvalidRestoreRequestError([size]);
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InvalidRestoreRequestError([
        {
          field: '(input)',
          problem: `the input is not valid JSON (${(error as Error).message}).`,
          fix: 'write a JSON object such as {"snapshot": "latest", "objects": ["Account"], "mode": "dry-run"}.',
        },
      ]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidRestoreRequestError([
      {
        field: '(input)',
        problem: `the input must be a JSON object, received ${Array.isArray(value) ? 'an array' : typeof value}.`,
        fix: 'write a JSON object such as {"snapshot": "latest", "objects": ["Account"], "mode": "dry-run"}.',
      },
    ]);
  }
  const shape = inputShapeProblem(value);
  if (shape) throw new InvalidRestoreRequestError([shape]);
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const problems: InputProblem[] = parsed.error.issues.map((issue) => {
      if (issue.code === 'unrecognized_keys') {
        const named = issue.keys.slice(0, 10).map((k) => k.slice(0, 64));
        const more = issue.keys.length > 10 ? ` and ${issue.keys.length - 10} more` : '';
        return {
          field: named.join(', ') + more,
          problem: `unknown input field(s) ${named.map((k) => `"${k}"`).join(', ')}${more}.`,
          fix: `remove them; accepted fields are ${Object.keys(FIXES).join(', ')}.`,
        };
      }
      return {
        field: issue.path.map(String).join('.') || '(input)',
        problem: `${issue.message}.`,
        fix: fixFor(issue.path),
      };
    });
    throw new InvalidRestoreRequestError(problems);
  }
  return checkCombinations(parsed.data);
}

function checkCombinations(input: z.infer<typeof schema>): RestoreRequest {
  const problems: InputProblem[] = [];
  const snapshot = parseSelector(input.snapshot, problems);
  const writes = input.mode !== 'dry-run';
  if (writes && input.confirmOrgId === undefined) {
    problems.push({
      field: 'confirmOrgId',
      problem: `mode "${input.mode}" writes to the org, and confirmOrgId is missing.`,
      fix: 'add "confirmOrgId" with the target org id (Setup > Company Information > Salesforce.com Organization ID), or use mode "dry-run".',
    });
  }
  if (input.confirmOrgId !== undefined && orgKeyOfId(input.confirmOrgId) === undefined) {
    problems.push({
      field: 'confirmOrgId',
      problem: `"${input.confirmOrgId}" is not an org id.`,
      fix: FIXES.confirmOrgId ?? '',
    });
  }
  if (input.objects.length === 0 && (input.metadata?.length ?? 0) === 0) {
    problems.push({
      field: 'objects',
      problem: 'nothing to restore: objects is empty and no metadata components are listed.',
      fix: 'list the objects to restore, e.g. ["Account"], and/or metadata components.',
    });
  }
  const duplicates = input.objects.filter((o, i) => input.objects.indexOf(o) !== i);
  if (duplicates.length > 0) {
    problems.push({
      field: 'objects',
      problem: `${duplicates.join(', ')} listed more than once.`,
      fix: 'list each object once.',
    });
  }
  if (input.fields !== undefined && input.mode === 'restore-deleted') {
    problems.push({
      field: 'fields',
      problem: 'fields restricts a field-level revert, but mode "restore-deleted" brings back whole rows.',
      fix: 'use mode "revert-changes" to put back only these fields, or remove "fields".',
    });
  }
  if (input.fields !== undefined && input.includeChildren) {
    problems.push({
      field: 'includeChildren',
      problem:
        'includeChildren cannot be combined with fields: a field list names fields of the listed objects only.',
      fix: 'remove includeChildren, or remove fields.',
    });
  }
  for (const ref of input.fields ?? []) {
    const [object] = ref.includes('.') ? ref.split('.') : [];
    if (object !== undefined && !input.objects.includes(object)) {
      problems.push({
        field: 'fields',
        problem: `"${ref}" names object ${object}, which is not in objects.`,
        fix: `add "${object}" to objects, or remove "${ref}".`,
      });
    }
  }
  const recordIds = Array.isArray(input.records) ? input.records : input.records?.ids;
  const where = Array.isArray(input.records) ? undefined : input.records?.where;
  if (input.records !== undefined && !Array.isArray(input.records) && !recordIds && !where) {
    problems.push({ field: 'records', problem: 'records is empty.', fix: FIXES.records ?? '' });
  }
  for (const c of where ?? []) {
    const needsValue = c.op !== 'isNull' && c.op !== 'isNotNull';
    if (needsValue && c.value === undefined) {
      problems.push({
        field: 'records.where',
        problem: `the condition on ${c.field} (${c.op}) has no value.`,
        fix: 'add "value", or use op "isNull" / "isNotNull".',
      });
    }
    if (c.op === 'in' && !Array.isArray(c.value)) {
      problems.push({
        field: 'records.where',
        problem: `the "in" condition on ${c.field} needs an array value.`,
        fix: 'write "value": ["a", "b"].',
      });
    }
  }
  let selector = snapshot as SnapshotSelector | undefined;
  if (input.pointInTime !== undefined) {
    if (input.snapshot !== 'latest') {
      problems.push({
        field: 'pointInTime',
        problem: 'pointInTime cannot be combined with snapshot: each names what to restore from.',
        fix: 'keep one: pointInTime for any second (the journal), or snapshot for a snapshot.',
      });
    } else {
      const problem = pointInTimeProblem(input.pointInTime);
      if (problem) problems.push(problem);
      else selector = { kind: 'instant', at: new Date(Date.parse(input.pointInTime)).toISOString() };
    }
  }
  if (problems.length > 0) throw new InvalidRestoreRequestError(problems);
  return {
    snapshot: selector as SnapshotSelector,
    snapshotText: input.pointInTime ?? input.snapshot,
    objects: input.objects,
    ...(recordIds ? { recordIds } : {}),
    ...(where ? { where } : {}),
    ...(input.fields ? { fields: input.fields } : {}),
    includeChildren: input.includeChildren,
    files: input.files,
    metadata: input.metadata ?? [],
    mode: input.mode,
    ...(input.confirmOrgId ? { confirmOrgId: input.confirmOrgId } : {}),
  };
}

/** What is wrong with a `pointInTime` value, or undefined: an instant to the second or finer, with its time zone. */
export function pointInTimeProblem(text: string): InputProblem | undefined {
  if (INSTANT.test(text) && !Number.isNaN(Date.parse(text))) {
    if (onTheCalendar(text)) return undefined;
    return {
      field: 'pointInTime',
      problem: `"${text}" names a day or time that does not exist (a date is read as written, never rolled over into the next month or day).`,
      fix: FIXES.pointInTime ?? '',
    };
  }
  return {
    field: 'pointInTime',
    problem: `"${text}" is not an instant with a time zone.`,
    fix: FIXES.pointInTime ?? '',
  };
}

/** Whether the date and time as written exist: JavaScript reads 2026-02-30 as March 2 and 24:00 as the next day. */
function onTheCalendar(text: string): boolean {
  const [, y, mo, d, h, mi, s] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(text) ?? [];
  const wall = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
  return (
    wall.getUTCFullYear() === Number(y) &&
    wall.getUTCMonth() === Number(mo) - 1 &&
    wall.getUTCDate() === Number(d) &&
    wall.getUTCHours() === Number(h) &&
    wall.getUTCMinutes() === Number(mi) &&
    wall.getUTCSeconds() === Number(s)
  );
}

function parseSelector(text: string, problems: InputProblem[]): SnapshotSelector | undefined {
  if (text === 'latest') return { kind: 'latest' };
  if (POINT_IN_TIME.test(text)) {
    const at = Date.parse(text);
    if (Number.isNaN(at)) {
      problems.push({
        field: 'snapshot',
        problem: `"${text}" is not a valid date and time.`,
        fix: FIXES.snapshot ?? '',
      });
      return undefined;
    }
    return { kind: 'pointInTime', at: new Date(at).toISOString() };
  }
  if (/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(text)) return { kind: 'id', id: text };
  problems.push({
    field: 'snapshot',
    problem: `"${text}" is neither "latest", a snapshot id nor a point in time.`,
    fix: FIXES.snapshot ?? '',
  });
  return undefined;
}

/** The problem with an input of `bytes` bytes, if it is larger than a restore takes. */
export function inputSizeProblem(bytes: number): InputProblem | undefined {
  if (bytes <= MAX_INPUT_BYTES) return undefined;
  return {
    field: '(input)',
    problem: `the input is ${Math.ceil(bytes / 1024)} KB; a restore input is at most 256 KB (the state machine's input limit).`,
    fix: 'name objects and records, not every row: restore by object, by "where" conditions, or in several runs.',
  };
}

/**
 * The problem with a parsed input, if it nests deeper, holds more values or more text than any
 * restore request: found without recursion, so no input can exhaust the stack.
 */
export function inputShapeProblem(value: unknown): InputProblem | undefined {
  const fix =
    'write a JSON object such as {"snapshot": "latest", "objects": ["Account"], "mode": "dry-run"}.';
  const stack: [unknown, number][] = [[value, 1]];
  let values = 0;
  let text = 0;
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    values++;
    if (depth > MAX_INPUT_DEPTH) {
      let deepest = depth;
      // Measured only along this branch, iteratively, to say how deep it goes.
      for (let n: unknown = node; Array.isArray(n) || (typeof n === 'object' && n !== null); deepest++) {
        const children: unknown[] = Array.isArray(n) ? n : Object.values(n as object);
        if (children.length === 0) break;
        n = children[0];
      }
      return {
        field: '(input)',
        problem: `the input is nested ${deepest.toLocaleString('en-US')} levels deep; a restore input is nested at most ${MAX_INPUT_DEPTH} levels.`,
        fix,
      };
    }
    if (typeof node === 'string') text += node.length;
    else if (Array.isArray(node)) for (const child of node) stack.push([child, depth + 1]);
    else if (typeof node === 'object' && node !== null) {
      for (const [key, child] of Object.entries(node)) {
        text += key.length;
        stack.push([child, depth + 1]);
      }
    }
    if (values + text > MAX_INPUT_BYTES) {
      const size = inputSizeProblem(values + text);
      return size ?? { field: '(input)', problem: 'the input is larger than 256 KB.', fix };
    }
  }
  return undefined;
}

/** True when the mode writes to the org. */
export function writesToOrg(mode: RestoreMode): boolean {
  return mode !== 'dry-run';
}

/** True when the mode brings back rows the org lost. */
export function restoresDeleted(mode: RestoreMode): boolean {
  return mode === 'restore-deleted' || mode === 'full' || mode === 'dry-run';
}

/** True when the mode puts changed fields back. */
export function revertsChanges(mode: RestoreMode): boolean {
  return mode === 'revert-changes' || mode === 'full' || mode === 'dry-run';
}

/**
 * The erase input, as an operator pastes it into the console: record ids, or an object and an
 * equality filter, who asked, and a mode that is a dry run unless confirmed with the org id.
 */
import { z } from 'zod';
import { canonicalOrgId, recase } from '../../../contract/org-id.ts';
import { nearestName } from '../backup/nearest-name.ts';
import type { InputProblem } from '../restore/errors.ts';
import { ErasureImpossibleError, InvalidEraseRequestError } from './errors.ts';

/** What an erase execution may do: `dry-run` finds and reports; `erase` removes. */
export const ERASE_MODES = ['dry-run', 'erase'] as const;

/** The most ids, or filter fields, one request may name. */
export const MAX_ERASE_IDS = 1000;
const MAX_TEXT = 500;
const API_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const RECORD_ID = /^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$/;
const OBJECT_FIELD = /^[A-Za-z][A-Za-z0-9_]*\.[A-Za-z][A-Za-z0-9_]*$/;

const FIXES: Record<string, string> = {
  ids: 'list record ids of 15 or 18 characters, e.g. ["0035g000000000PAAQ"].',
  object: 'write the object API name, e.g. "Contact".',
  where: 'write the fields to match and their values, e.g. {"Email": "jane@example.com"}.',
  requestedBy: "write who asked for the erasure: the requester's e-mail or a request reference.",
  reason: 'write a short reason, or leave it out.',
  keepCopiesIn:
    'list the fields whose copies of her values stay, as Object.Field, e.g. ["Account.Phone"], or leave it out.',
  mode: 'write "dry-run" (the default) or "erase".',
  confirmOrgId:
    'write the org id (Setup > Company Information > Salesforce.com Organization ID), 15 or 18 characters.',
};

const schema = z.strictObject({
  ids: z
    .array(z.string().regex(RECORD_ID, 'a 15- or 18-character record id'))
    .min(1, 'list at least one id')
    .max(MAX_ERASE_IDS, `at most ${MAX_ERASE_IDS} ids; split the request`)
    .optional(),
  object: z.string().max(255).regex(API_NAME, 'an object API name such as Contact').optional(),
  where: z
    .record(
      z.string().max(255).regex(API_NAME, 'a field API name such as Email'),
      z.string().min(1, 'a value to match').max(MAX_TEXT),
    )
    .optional(),
  requestedBy: z.string().trim().min(1, 'say who asked').max(MAX_TEXT),
  reason: z.string().max(MAX_TEXT).optional(),
  keepCopiesIn: z
    .array(z.string().max(255).regex(OBJECT_FIELD, 'a field as Object.Field, e.g. Account.Phone'))
    .max(100, 'at most 100 fields')
    .optional(),
  mode: z.enum(ERASE_MODES).default('dry-run'),
  confirmOrgId: z.string().max(64).optional(),
});

/** One id as the input gave it, with how it is matched against the vault. */
export interface IdTarget {
  /** As written in the input. */
  readonly input: string;
  /** The first 15 characters; exact when `exact`, else matched whatever the case. */
  readonly id15: string;
  /** True for an 18-character id (its suffix fixes the casing), false for 15 characters in unknown case. */
  readonly exact: boolean;
}

/** The erase input after parsing. */
export interface EraseRequest {
  readonly ids?: readonly IdTarget[];
  readonly object?: string;
  /** Field name to value; values are compared case-insensitively when they look like e-mail. */
  readonly where?: Readonly<Record<string, string>>;
  readonly requestedBy: string;
  readonly reason?: string;
  /**
   * Fields (`Object.Field`) in which copies of her values in other records stay, as the requester
   * decided (a shared switchboard number, say); every other copy is blanked.
   */
  readonly keepCopiesIn?: readonly string[];
  readonly mode: (typeof ERASE_MODES)[number];
  /** The org id, Salesforce's 18-character form, when given. */
  readonly confirmOrgId?: string;
}

/** Parses the input (an object or JSON text), naming each problem and how to fix it. */
export function parseEraseInput(raw: unknown): EraseRequest {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw new InvalidEraseRequestError([
        {
          field: '(input)',
          problem: `the input is not valid JSON (${(error as Error).message}).`,
          fix: 'write a JSON object such as {"ids": ["003..."], "requestedBy": "dpo@example.com"}.',
        },
      ]);
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidEraseRequestError([
      {
        field: '(input)',
        problem: `the input must be a JSON object, received ${Array.isArray(value) ? 'an array' : typeof value}.`,
        fix: 'write a JSON object such as {"ids": ["003..."], "requestedBy": "dpo@example.com"}.',
      },
    ]);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    throw new InvalidEraseRequestError(
      parsed.error.issues.map((issue): InputProblem => {
        if (issue.code === 'unrecognized_keys') {
          const named = issue.keys.slice(0, 10).map((k) => k.slice(0, 64));
          return {
            field: named.join(', '),
            problem: `unknown input field(s) ${named
              .map((k) => {
                const near = nearestName(k, Object.keys(FIXES));
                return near ? `"${k}" (did you mean "${near}"?)` : `"${k}"`;
              })
              .join(', ')}.`,
            fix: `remove or rename them; accepted fields are ${Object.keys(FIXES).join(', ')}.`,
          };
        }
        const top = String(issue.path[0] ?? '');
        return {
          field: issue.path.map(String).join('.') || '(input)',
          problem:
            issue.path.length === 1 && issue.code === 'invalid_type' && top === 'requestedBy'
              ? 'requestedBy is missing: an erasure records who asked for it.'
              : `${issue.message}.`,
          fix: FIXES[top] ?? 'remove it.',
        };
      }),
    );
  }
  const input = parsed.data;
  const problems: InputProblem[] = [];
  const byIds = input.ids !== undefined;
  const byFilter = input.where !== undefined;
  if (byIds === byFilter) {
    problems.push({
      field: byIds ? 'ids, where' : '(input)',
      problem: byIds
        ? 'give either ids or an object with a filter, not both.'
        : 'nothing to erase: neither ids nor a filter is given.',
      fix: 'write {"ids": ["003..."]}, or {"object": "Contact", "where": {"Email": "jane@example.com"}}.',
    });
  }
  if (byFilter && input.object === undefined) {
    problems.push({
      field: 'object',
      problem: 'a filter needs the object whose rows it matches.',
      fix: FIXES.object ?? '',
    });
  }
  if (byFilter && Object.keys(input.where ?? {}).length === 0) {
    problems.push({ field: 'where', problem: 'the filter names no field.', fix: FIXES.where ?? '' });
  }
  let confirmOrgId: string | undefined;
  if (input.confirmOrgId !== undefined) {
    confirmOrgId = canonicalOrgId(input.confirmOrgId);
    if (!confirmOrgId) {
      problems.push({
        field: 'confirmOrgId',
        problem: 'it is not an org id.',
        fix: FIXES.confirmOrgId ?? '',
      });
    }
  } else if (input.mode === 'erase') {
    problems.push({
      field: 'confirmOrgId',
      problem: 'mode "erase" removes data for good, and confirmOrgId is missing.',
      fix: `add "confirmOrgId" with the org id, or use mode "dry-run" first. ${FIXES.confirmOrgId}`,
    });
  }
  if (problems.length > 0) throw new InvalidEraseRequestError(problems);
  const ids = input.ids?.map(
    (id): IdTarget => ({ input: id, id15: id.length === 18 ? recase(id) : id, exact: id.length === 18 }),
  );
  return {
    ...(ids ? { ids } : {}),
    ...(input.object !== undefined ? { object: input.object } : {}),
    ...(input.where !== undefined ? { where: input.where } : {}),
    requestedBy: input.requestedBy,
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    ...(input.keepCopiesIn !== undefined ? { keepCopiesIn: [...new Set(input.keepCopiesIn)].sort() } : {}),
    mode: input.mode,
    ...(confirmOrgId ? { confirmOrgId } : {}),
  };
}

/** Whether a filter value is compared whatever its case: e-mail-like text is. */
export const caseInsensitiveValue = (value: string): boolean => /^[^\s@]+@[^\s@]+$/.test(value.trim());

/**
 * Refuses erasure on a vault in Object Lock COMPLIANCE mode: no one, the account's root included,
 * can remove a locked version before its lock expires, so the person's rows would outlive any
 * erasure until then.
 */
export function refuseLockedVault(lockMode: string | undefined): void {
  if (lockMode !== 'COMPLIANCE') return;
  throw new ErasureImpossibleError(
    'The vault is locked in Object Lock COMPLIANCE mode: no one, the AWS account root included, can remove a locked version before its lock period ends, so an erasure cannot remove the earlier versions that hold the person. Nothing was read or written. To make erasure possible, deploy the vault with retention.objectLock.mode "GOVERNANCE" (the erase role is allowed to bypass it), or keep COMPLIANCE with retention.objectLock.days no longer than the time within which erasure requests must be answered, and erase once the locks have expired.',
  );
}

import { z } from 'zod';
import {
  ORG_NAME_PATTERN,
  ORG_NAME_RULE,
  PRODUCTION_LOGIN_URL,
  RETENTION_TIERS,
  type RetentionPolicy,
  SANDBOX_LOGIN_URL,
} from '../contract/workflow-contract.ts';
import { nearestKey } from './nearest-key.ts';
import { policyConflicts, sweeperRoleNameProblem } from './retention-policy.ts';
import { isShare, SHARE_RULE } from './validation.ts';
/** An Event Relay partner event source: `aws.partner/salesforce.com/<org id>/<channel id>`. */
export const PARTNER_EVENT_SOURCE =
  /^aws\.partner\/salesforce\.com\/00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?\/[A-Za-z0-9]{15,18}$/;

const PARTNER_SOURCE_HINT =
  'write the Event Relay partner event source as the EventBridge console lists it: aws.partner/salesforce.com/<org id>/<channel id>';

/** Thrown when a config does not validate; its message lists every problem found. */
export class InvalidConfigError extends Error {
  override readonly name = 'InvalidConfigError';
  constructor(
    /** One line per problem: path, value received, what to write instead. */
    readonly problems: readonly string[],
    source?: string,
  ) {
    const where = source ? ` in ${source}` : '';
    super(
      `The config${where} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
    );
  }
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@\-/]+$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
// Salesforce's API name rule: a letter first, then letters, digits and single underscores, with no
// trailing underscore; `__` only between a namespace, the name and a suffix (`ns__Invoice__c`).
const API_NAME = /^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*(?:__[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*){0,2}$/;

/** Storage classes a noncurrent version may move to. */
export const COLD_STORAGE_CLASSES = ['STANDARD_IA', 'GLACIER_IR', 'GLACIER', 'DEEP_ARCHIVE'] as const;

/** True when `expression` is an EventBridge Scheduler `rate(...)` or `cron(...)` expression we accept. */
function isScheduleExpression(expression: string): boolean {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const plural = rate[2]!.endsWith('s');
    return n >= 1 && (n === 1) !== plural;
  }
  if (!CRON.test(expression)) return false;
  const fields = expression.slice(5, -1).split(' ');
  // Scheduler cron needs '?' in exactly one of day-of-month and day-of-week.
  return (fields[2] === '?') !== (fields[4] === '?');
}

/** A construct id for an org name: "acme-prod" becomes "AcmeProd". */
export function constructIdOf(orgName: string): string {
  return orgName
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** Hours between runs of a `rate(...)` expression, or undefined for cron. */
export function rateHours(expression: string): number | undefined {
  const rate = RATE.exec(expression);
  if (!rate) return undefined;
  const n = Number(rate[1]);
  const unit = rate[2]!;
  if (unit.startsWith('minute')) return n / 60;
  if (unit.startsWith('hour')) return n;
  return n * 24;
}

/** A string matching `pattern`, with one hint for both a wrong type and a wrong shape. */
const text = (pattern: RegExp, hint: string) => z.string({ error: hint }).regex(pattern, { error: hint });

/** A whole number of at least `min`, with one hint for every way it can be wrong. */
const wholeNumber = (min: number, hint: string) =>
  z.number({ error: hint }).int({ error: hint }).min(min, { error: hint });

const SCHEDULE_HINT =
  'write an EventBridge Scheduler expression such as "rate(1 day)", "rate(12 hours)" or ' +
  '"cron(0 2 * * ? *)" (six fields; "?" in exactly one of day-of-month and day-of-week)';

const schedule = (fallback: string) =>
  z.string({ error: SCHEDULE_HINT }).refine(isScheduleExpression, { error: SCHEDULE_HINT }).default(fallback);

const objectName = text(
  API_NAME,
  'write an object API name such as "Account" or "Invoice__c": it starts with a letter, holds only letters, digits and single underscores, has no trailing underscore, and uses "__" only before a namespaced name or a suffix such as "__c"',
);

// The same rule as the runtime's and the constructs': the name is also the org's vault prefix.
const orgName = text(ORG_NAME_PATTERN, `write ${ORG_NAME_RULE}`);

const DAYS = 'write a whole number of days, at least 1';

const schedulesSchema = z
  .object({
    incremental: schedule('cron(0 2 ? * MON-SAT *)'),
    full: schedule('cron(0 2 ? * SUN *)'),
    metadata: schedule('cron(0 5 * * ? *)'),
    timezone: z
      .string({ error: 'write an IANA time zone such as "UTC" or "Europe/Berlin"' })
      .refine((tz) => Intl.supportedValuesOf('timeZone').includes(tz) || tz === 'UTC', {
        error: 'write an IANA time zone such as "UTC" or "Europe/Berlin"',
      })
      .default('UTC'),
  })
  .strict()
  .prefault({});

const SHARE_HINT = `write ${SHARE_RULE}`;
const HOURS_HINT = 'write a whole number of hours from 1 to 168';
const PERCENT_HINT = 'write a percentage greater than 0 and at most 100, such as 5';

/** The kinds of change a backup run tells apart (the runtime's CHANGE_KINDS; a test keeps them equal). */
export const CHANGE_ALERT_KINDS = ['inserted', 'updated', 'deleted', 'undeleted', 'hardDeleted'] as const;

const percent = () =>
  z.number({ error: PERCENT_HINT }).gt(0, { error: PERCENT_HINT }).max(100, { error: PERCENT_HINT });
const ROWS_HINT = 'write a whole number of rows, at least 1';

const KIND_RULE_HINT =
  'write "off", or {"rows": N, "percent": P} with either or both (an empty {} uses the learned baseline)';
const kindRule = z.union(
  [
    z.literal('off'),
    z.object({ rows: wholeNumber(1, ROWS_HINT).optional(), percent: percent().optional() }).strict(),
  ],
  { error: KIND_RULE_HINT },
);
const kindRules = Object.fromEntries(CHANGE_ALERT_KINDS.map((kind) => [kind, kindRule.optional()])) as {
  [K in (typeof CHANGE_ALERT_KINDS)[number]]: z.ZodOptional<typeof kindRule>;
};

const fieldThresholds = z
  .object({
    nulledRows: wholeNumber(1, ROWS_HINT).optional(),
    nulledPercent: percent().optional(),
    sameValueRows: wholeNumber(1, ROWS_HINT).optional(),
    sameValuePercent: percent().optional(),
  })
  .strict();

const changeAlertObject = z
  .object({
    ...kindRules,
    fields: z
      .union([z.literal('off'), fieldThresholds], {
        error: 'write "off", or field thresholds such as {"nulledRows": 250, "nulledPercent": 5}',
      })
      .optional(),
  })
  .strict();

const baselineSchema = z
  .object({
    runs: wholeNumber(5, 'write a whole number of runs from 5 to 100')
      .max(100, { error: 'write a whole number of runs from 5 to 100' })
      .optional(),
    minRuns: wholeNumber(2, 'write a whole number of runs from 2 to 100')
      .max(100, { error: 'write a whole number of runs from 2 to 100' })
      .optional(),
    k: z
      .number({ error: 'write a number greater than 0, such as 3.5' })
      .gt(0, {
        error: 'write a number greater than 0, such as 3.5',
      })
      .optional(),
  })
  .strict()
  .refine((b) => (b.minRuns ?? 5) <= (b.runs ?? 10), {
    error:
      'the baseline would need more runs than it reads and could never alert; write minRuns at most runs (default 10)',
    path: ['minRuns'],
  });

/**
 * The largest changeAlert rules the functions take: they travel in the backup functions'
 * environment, which Lambda limits to 4 KB for all variables together.
 */
const CHANGE_ALERT_RULES_BYTES = 2_048;

const changeAlertSchema = z
  .object({
    percent: percent().default(5),
    rows: wholeNumber(1, ROWS_HINT).default(1000),
    ...kindRules,
    objects: z
      .record(objectName, changeAlertObject, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'each key of objects is an object API name such as "Account" or "Invoice__c"'
            : undefined,
      })
      .optional(),
    fields: fieldThresholds.optional(),
    baseline: baselineSchema.optional(),
    minimumRows: wholeNumber(0, 'write a whole number of rows, 0 or more').optional(),
  })
  .strict()
  .superRefine((alert, ctx) => {
    const { percent: _percent, rows: _rows, ...rules } = alert;
    const bytes = Buffer.byteLength(JSON.stringify(rules));
    if (bytes > CHANGE_ALERT_RULES_BYTES) {
      ctx.addIssue({
        code: 'custom',
        input: Object.keys(rules.objects ?? {}),
        path: ['objects'],
        message: `the change alert rules take ${bytes} bytes of the backup functions' environment, over the ${CHANGE_ALERT_RULES_BYTES} they may use (Lambda allows 4 KB for all variables); set org-wide rules and fewer per-object ones`,
      });
    }
  })
  .prefault({});

/** An org's change alert rules beyond the default thresholds, as the backup settings take them. */
export type ChangeAlertRules = Omit<z.output<typeof changeAlertSchema>, 'percent' | 'rows'>;

/** The keys known at a path under `orgs[].changeAlert` or a retention policy, for suggestions; undefined elsewhere. */
function knownKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  const isKeep =
    (path.length === 2 && path[0] === 'retention' && path[1] === 'keep') ||
    (path.length === 3 && path[0] === 'orgs' && path[2] === 'keep');
  if (isKeep) return RETENTION_TIERS;
  if (path[0] !== 'orgs' || path[2] !== 'changeAlert') return undefined;
  const rest = path.slice(3);
  const thresholdKeys = ['rows', 'percent'];
  if (rest.length === 0) return Object.keys(changeAlertSchema.unwrap().shape);
  if (rest[0] === 'objects' && rest.length === 2) return Object.keys(changeAlertObject.shape);
  if (rest[0] === 'objects' && rest.length === 3) {
    return rest[2] === 'fields' ? Object.keys(fieldThresholds.shape) : thresholdKeys;
  }
  if (rest[0] === 'fields') return Object.keys(fieldThresholds.shape);
  if (rest[0] === 'baseline') return Object.keys(baselineSchema.shape);
  if ((CHANGE_ALERT_KINDS as readonly PropertyKey[]).includes(rest[0]!) && rest.length === 1)
    return thresholdKeys;
  return undefined;
}

const KEEP_HINT = 'write a whole number of snapshots, 0 or more';

/**
 * A retention policy as written: how many daily, weekly, monthly and yearly snapshots to keep; a
 * tier left out keeps none, and at least one tier must keep a snapshot.
 */
const keepSchema = z
  .object(
    Object.fromEntries(RETENTION_TIERS.map((tier) => [tier, wholeNumber(0, KEEP_HINT).default(0)])) as {
      [T in (typeof RETENTION_TIERS)[number]]: z.ZodDefault<z.ZodNumber>;
    },
    { error: 'write a retention policy such as {"daily": 7, "weekly": 5, "monthly": 12, "yearly": 7}' },
  )
  .strict()
  .refine((keep) => RETENTION_TIERS.some((tier) => keep[tier] > 0), {
    error:
      'this policy keeps no snapshot at all; keep at least one daily, weekly, monthly or yearly snapshot (or leave the policy out to keep every snapshot)',
  });

const ORG_KEEP_HINT =
  'write a retention policy such as {"daily": 7, "weekly": 5, "monthly": 12, "yearly": 7}, or "all" to keep every snapshot of this org';

/**
 * An org's own policy, or "all". Not a union: a union would hide the policy's own problems (a
 * misspelt tier, a fraction) behind one message, where the policy's are what to fix.
 */
const orgKeepSchema = z.unknown().transform((value, ctx): 'all' | z.output<typeof keepSchema> => {
  if (value === 'all') return 'all';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', input: value, message: ORG_KEEP_HINT });
    return z.NEVER;
  }
  const result = keepSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
  return z.NEVER;
});

const orgSchema = z
  .object({
    name: orgName,
    type: z.enum(['production', 'sandbox'], { error: 'write "production" or "sandbox"' }),
    loginUrl: z
      .url({ protocol: /^https$/, error: 'write an https URL such as "https://login.salesforce.com"' })
      .optional(),
    secretName: text(
      /^[\w/+=.@-]{1,512}$/,
      'write the name of a Secrets Manager secret such as "sfbackup/acme-prod"',
    ),
    schedules: schedulesSchema,
    objects: z
      .object({
        include: z
          .array(objectName)
          .min(1, { error: 'list at least one object, or leave include out' })
          .optional(),
        exclude: z.array(objectName).default([]),
      })
      .strict()
      .prefault({}),
    files: z.boolean({ error: 'write true or false' }).default(true),
    apiShare: z.number({ error: SHARE_HINT }).refine(isShare, { error: SHARE_HINT }).default(0.5),
    noSuccessAlarmHours: wholeNumber(1, HOURS_HINT)
      .max(168, { error: `${HOURS_HINT} (CloudWatch evaluates at most 7 days)` })
      .default(36),
    changeAlert: changeAlertSchema,
    continuous: z
      .object({
        partnerEventSource: z
          .string({ error: PARTNER_SOURCE_HINT })
          .regex(PARTNER_EVENT_SOURCE, { error: PARTNER_SOURCE_HINT }),
      })
      .strict()
      .optional(),
    keep: orgKeepSchema.optional(),
    restoreDrill: z
      .object({
        schedule: schedule('cron(0 6 1 * ? *)'),
        sandboxOrg: orgName,
        objects: z
          .array(objectName)
          .min(1, { error: 'list at least one object, or leave objects out' })
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .transform((org) => ({
    ...org,
    loginUrl: org.loginUrl ?? (org.type === 'sandbox' ? SANDBOX_LOGIN_URL : PRODUCTION_LOGIN_URL),
  }));

const retentionSchema = z
  .object({
    currentDays: wholeNumber(1, DAYS).optional(),
    noncurrentDays: wholeNumber(1, DAYS).default(365),
    coldAfterDays: wholeNumber(0, 'write a whole number of days, 0 or more').default(30),
    coldStorageClass: z
      .enum(COLD_STORAGE_CLASSES, { error: `write one of ${COLD_STORAGE_CLASSES.join(', ')}` })
      .default('GLACIER_IR'),
    accessLogDays: wholeNumber(1, DAYS).default(365),
    objectLock: z
      .object({
        mode: z.enum(['GOVERNANCE', 'COMPLIANCE'], { error: 'write "GOVERNANCE" or "COMPLIANCE"' }),
        days: wholeNumber(1, DAYS),
      })
      .strict()
      .optional(),
    keep: keepSchema.optional(),
  })
  .strict()
  .prefault({});

const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** The longest name S3 gives a bucket. */
const BUCKET_NAME_LIMIT = 63;

/**
 * The name of the replica bucket, `<stackPrefix>-replica-<account>-<region>` in lower case; the
 * vault stack names it in its replication rule before the replica stack has deployed it.
 */
export function replicaBucketNameOf(stackPrefix: string, account: string, region: string): string {
  return `${stackPrefix.toLowerCase()}-replica-${account}-${region}`;
}

const replicationSchema = z
  .object({
    region: text(REGION, 'write the AWS region of the second copy, such as "eu-central-1"'),
    replicationTimeControl: z.boolean({ error: 'write true or false' }).default(false),
  })
  .strict();

const configSchema = z
  .object({
    orgs: z
      .array(orgSchema, { error: 'write a list of orgs, such as [{"name": "acme-prod", ...}]' })
      .min(1, { error: 'list at least one org' }),
    retention: retentionSchema,
    alertEmails: z.array(text(EMAIL, 'write an e-mail address such as "ops@example.com"'), {
      error: 'write a list of e-mail addresses, such as ["ops@example.com"]',
    }),
    breakGlassRoleArn: text(
      ROLE_ARN,
      'write an IAM role ARN such as "arn:aws:iam::123456789012:role/vault-break-glass"',
    ).optional(),
    deployRoleArn: text(
      ROLE_ARN,
      'write the ARN of the role CloudFormation deploys the vault stack as, such as "arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1", or leave deployRoleArn out to use the CDK bootstrap\'s execution role',
    ).optional(),
    stackPrefix: text(
      /^[A-Za-z][A-Za-z0-9-]{0,63}$/,
      'write letters, digits and hyphens, starting with a letter',
    ).default('SfBackup'),
    env: z
      .object({
        account: text(/^\d{12}$/, 'write a 12-digit AWS account id').optional(),
        region: text(REGION, 'write an AWS region such as "eu-west-1"').optional(),
      })
      .strict()
      .prefault({}),
    replication: replicationSchema.optional(),
    tags: z.record(z.string(), z.string()).default({}),
  })
  .strict()
  .superRefine(crossFieldChecks, { when: () => true });

/** The validated, defaulted configuration of one deployment. */
export type AppConfig = z.output<typeof configSchema>;
/** One org as the config describes it, defaults applied. */
export type OrgConfig = AppConfig['orgs'][number];
/** Retention of the vault's object versions, defaults applied. */
export type RetentionConfig = AppConfig['retention'];
/** The config as written in the file, before defaults. */
export type AppConfigInput = z.input<typeof configSchema>;

/**
 * The retention policy of `org`: its own `keep`, else the config's `retention.keep`; undefined
 * when neither is written or the org writes "all", and then no snapshot of it is ever expired.
 */
export function retentionPolicyOf(
  config: Pick<AppConfig, 'retention'>,
  org: OrgConfig,
): RetentionPolicy | undefined {
  if (org.keep === 'all') return undefined;
  return org.keep ?? config.retention.keep;
}

interface LooseOrg {
  name?: unknown;
  type?: unknown;
  objects?: { include?: unknown; exclude?: unknown };
  schedules?: { incremental?: unknown };
  noSuccessAlarmHours?: unknown;
  restoreDrill?: { sandboxOrg?: unknown };
  keep?: unknown;
}

/**
 * Rules that span fields. The value may be partly invalid (this runs even when field checks
 * failed, so one run reports everything), hence the defensive reads.
 */
function crossFieldChecks(value: unknown, ctx: z.RefinementCtx): void {
  const cfg = (value ?? {}) as { orgs?: unknown; retention?: Record<string, unknown> };
  const orgs: LooseOrg[] = Array.isArray(cfg.orgs) ? (cfg.orgs as LooseOrg[]) : [];
  const add = (path: (string | number)[], input: unknown, message: string) =>
    ctx.addIssue({ code: 'custom', path, input, message });

  // Names become construct ids without their hyphens, so "acme-1" and "acme1" would collide.
  const seen = new Map<string, number>();
  orgs.forEach((org, i) => {
    if (typeof org?.name !== 'string') return;
    const id = constructIdOf(org.name);
    const first = seen.get(id);
    if (first !== undefined) {
      add(
        ['orgs', i, 'name'],
        org.name,
        `orgs[${first}] is already named ${JSON.stringify(orgs[first]?.name)}, which reads the same without hyphens; give each org its own name`,
      );
    } else {
      seen.set(id, i);
    }
  });

  orgs.forEach((org, i) => {
    const include = org?.objects?.include;
    const exclude = org?.objects?.exclude;
    if (Array.isArray(include) && Array.isArray(exclude)) {
      const both = exclude.filter((o) => include.includes(o));
      if (both.length > 0) {
        add(
          ['orgs', i, 'objects', 'exclude'],
          both,
          `${both.join(', ')} ${both.length === 1 ? 'is' : 'are'} both included and excluded; remove ${both.length === 1 ? 'it' : 'them'} from one list`,
        );
      }
    }
    const every =
      typeof org?.schedules?.incremental === 'string' ? rateHours(org.schedules.incremental) : undefined;
    const rawHours = org?.noSuccessAlarmHours;
    const hours = rawHours === undefined ? 36 : Number.isInteger(rawHours) ? (rawHours as number) : undefined;
    if (every !== undefined && hours !== undefined && hours >= 1 && hours <= 168 && hours <= every) {
      add(
        ['orgs', i, 'noSuccessAlarmHours'],
        hours,
        every < 168
          ? `the incremental schedule runs every ${every} hours, so the alarm would fire between runs; write more than ${every}`
          : `the incremental schedule runs every ${every} hours, longer than the alarm can wait (168); schedule incrementals at least weekly`,
      );
    }
    const drillTarget = org?.restoreDrill?.sandboxOrg;
    if (typeof drillTarget === 'string') {
      const target = orgs.find((o) => o?.name === drillTarget);
      if (drillTarget === org.name) {
        add(
          ['orgs', i, 'restoreDrill', 'sandboxOrg'],
          drillTarget,
          'a drill must restore into another org; name a sandbox org',
        );
      } else if (!target) {
        add(
          ['orgs', i, 'restoreDrill', 'sandboxOrg'],
          drillTarget,
          `no org has this name; write one of ${orgs.map((o) => JSON.stringify(o?.name)).join(', ')} with type "sandbox"`,
        );
      } else if (target.type !== 'sandbox') {
        add(
          ['orgs', i, 'restoreDrill', 'sandboxOrg'],
          drillTarget,
          'this org is not a sandbox; drills overwrite data, so name an org with type "sandbox"',
        );
      }
    }
  });

  replicationChecks(value, add);

  const r = cfg.retention ?? {};
  // Skip comparisons with a field that is itself invalid: it already has its own problem listed.
  const days = (v: unknown, fallback: number) =>
    v === undefined ? fallback : Number.isInteger(v) && (v as number) >= 0 ? (v as number) : undefined;
  const noncurrentDays = days(r.noncurrentDays, 365);
  const coldAfterDays = days(r.coldAfterDays, 30);
  const storageClass = r.coldStorageClass ?? 'GLACIER_IR';
  if (noncurrentDays && coldAfterDays !== undefined && coldAfterDays >= noncurrentDays) {
    add(
      ['retention', 'coldAfterDays'],
      coldAfterDays,
      `noncurrent versions expire after ${noncurrentDays} days; write fewer days than that`,
    );
  }
  if (storageClass === 'STANDARD_IA' && coldAfterDays !== undefined && coldAfterDays < 30) {
    add(
      ['retention', 'coldAfterDays'],
      coldAfterDays,
      'S3 moves versions to STANDARD_IA after 30 days at the earliest; write 30 or more',
    );
  }
  const lock = r.objectLock as { days?: unknown } | undefined;
  const lockDays = days(lock?.days, 0);
  if (noncurrentDays && lockDays && lockDays > noncurrentDays) {
    add(
      ['retention', 'objectLock', 'days'],
      lockDays,
      `locked versions would outlive retention.noncurrentDays (${noncurrentDays}); write at most ${noncurrentDays} days or raise noncurrentDays`,
    );
  }
  retentionPolicyChecks(cfg, orgs, days(r.currentDays, 0) || undefined, lockDays || undefined, add);
}

/** A policy as written, when every tier is valid and one keeps a snapshot (else it has its own problem). */
function looseKeep(value: unknown): RetentionPolicy | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const written = value as Record<string, unknown>;
  const policy: Record<string, number> = {};
  for (const tier of RETENTION_TIERS) {
    const n = written[tier] ?? 0;
    if (!Number.isInteger(n) || (n as number) < 0) return undefined;
    policy[tier] = n as number;
  }
  return RETENTION_TIERS.some((t) => policy[t]! > 0) ? (policy as RetentionPolicy) : undefined;
}

/**
 * Each org's retention policy against the vault's: S3 must not expire snapshots the policy keeps
 * (currentDays), and Object Lock must not hold expired snapshots long after the policy let them
 * go (objectLock.days). Each problem is reported once per policy written, at the vault setting to
 * change, naming the policy; and the sweeper's role name must fit IAM's limit.
 */
function retentionPolicyChecks(
  cfg: { retention?: Record<string, unknown>; stackPrefix?: unknown },
  orgs: LooseOrg[],
  currentDays: number | undefined,
  objectLockDays: number | undefined,
  add: (path: (string | number)[], input: unknown, message: string) => void,
): void {
  const defaultPolicy = looseKeep(cfg.retention?.keep);
  const policies: { name: string; policy: RetentionPolicy }[] = [];
  if (defaultPolicy) policies.push({ name: 'retention.keep', policy: defaultPolicy });
  orgs.forEach((org, i) => {
    const own = looseKeep(org?.keep);
    if (own) policies.push({ name: `orgs[${i}].keep`, policy: own });
  });
  const used = (name: string) => name !== 'retention.keep' || orgs.some((org) => org?.keep === undefined);
  for (const { name, policy } of policies.filter((p) => used(p.name))) {
    for (const conflict of policyConflicts(policy, { currentDays, objectLockDays }, name)) {
      add(
        conflict.setting === 'currentDays'
          ? ['retention', 'currentDays']
          : ['retention', 'objectLock', 'days'],
        conflict.value,
        conflict.message,
      );
    }
  }
  const prefix = typeof cfg.stackPrefix === 'string' ? cfg.stackPrefix : 'SfBackup';
  orgs.forEach((org, i) => {
    if (typeof org?.name !== 'string' || !ORG_NAME_PATTERN.test(org.name)) return;
    const isSwept = org.keep === undefined ? defaultPolicy !== undefined : looseKeep(org.keep) !== undefined;
    const problem = isSwept ? sweeperRoleNameProblem(prefix, org.name) : undefined;
    if (problem) add(['stackPrefix'], prefix, `${problem} (orgs[${i}])`);
  });
}

/** The second copy must be in another region than the vault, and its bucket name must fit. */
function replicationChecks(
  value: unknown,
  add: (path: (string | number)[], input: unknown, message: string) => void,
): void {
  const cfg = (value ?? {}) as {
    replication?: { region?: unknown };
    env?: { region?: unknown };
    stackPrefix?: unknown;
  };
  const region = cfg.replication?.region;
  if (typeof region !== 'string' || !REGION.test(region)) return;
  const vaultRegion = cfg.env?.region;
  if (vaultRegion === undefined) {
    add(
      ['env', 'region'],
      vaultRegion,
      'replication needs the vault\'s region to put the second copy elsewhere; write the region the vault is deployed to, such as "eu-west-1"',
    );
  } else if (vaultRegion === region) {
    add(
      ['replication', 'region'],
      region,
      `the vault is in ${region} already, so a copy there would fail with it; write another region`,
    );
  }
  const prefix = typeof cfg.stackPrefix === 'string' ? cfg.stackPrefix : 'SfBackup';
  const name = replicaBucketNameOf(prefix, '123456789012', region);
  if (name.length > BUCKET_NAME_LIMIT) {
    add(
      ['stackPrefix'],
      prefix,
      `the replica bucket would be named "${name}", ${name.length - BUCKET_NAME_LIMIT} characters longer than S3 allows; write a stackPrefix of at most ${prefix.length - (name.length - BUCKET_NAME_LIMIT)} characters`,
    );
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  }
  return out || '(top level)';
}

function formatValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Parses and validates a config; throws one InvalidConfigError listing every problem. */
export function parseConfig(json: unknown, source?: string): AppConfig {
  const result = configSchema.safeParse(json, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue) => {
    const path = [...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(path);
      if (known) {
        return issue.keys.map((key) => {
          const near = nearestKey(key, known);
          return `${formatPath(path)}: unknown key ${key}${near ? ` (did you mean ${near}?)` : ''}; write one of ${known.join(', ')}`;
        });
      }
      return [
        `${formatPath(path)}: unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.join(', ')}; remove ${issue.keys.length === 1 ? 'it' : 'them'} or check the spelling (see docs/config.md)`,
      ];
    }
    return [`${formatPath(path)}: received ${formatValue(issue.input)}; ${issue.message}`];
  });
  throw new InvalidConfigError(problems, source);
}

/** An org's change alert rules beyond `percent` and `rows`, which the backup settings take apart. */
export function changeAlertRulesOf(alert: OrgConfig['changeAlert']): ChangeAlertRules {
  const { percent: _percent, rows: _rows, ...rules } = alert;
  return rules;
}

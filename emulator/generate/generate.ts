import type { FieldDef, OrgApi, OrgOptions } from '../org/api.ts';
import { createOrg, type Org } from '../org/org.ts';
import { field, picklistValues, sobject } from '../org/schema.ts';
import { Prng } from './prng.ts';
import { type GenerateSpec, parseGenerateSpec } from './spec.ts';
import { fileBytes, longTexts, NASTY_STRINGS, randomDate, randomDateTime } from './values.ts';

/** How to write generated rows. */
export interface GenerateOptions {
  /**
   * Write custom-object rows through `insert` (every value checked) instead of the unchecked
   * `loadRows` fast path. Both give the same rows; tests use this to prove it. @default false
   */
  readonly validate?: boolean;
}

/** What a generation created. */
export interface GeneratedSummary {
  readonly spec: GenerateSpec;
  /** Custom objects, in creation order (each looks up the previous one). */
  readonly objects: string[];
  /** Rows created per object. */
  readonly rows: Record<string, number>;
}

const STATUSES = ['New', 'Working', 'Done', 'Blocked'];
const TAGS = ['red', 'green', 'blue', 'with space', 'ünïcödé'];
const EXTENSIONS = ['txt', 'csv', 'pdf', 'png', 'json', 'bin'];
// Shared pools keep a million generated rows small; variety matters more than uniqueness here.
const EMAILS = Array.from({ length: 997 }, (_, i) => `user.${i}+tag@example.com`);
const URLS = Array.from({ length: 991 }, (_, i) => `https://example.com/path?q=${i}&x=a,b`);

/** The data fields generated objects cycle through, by kind. */
const KINDS: ReadonlyArray<(name: string) => Partial<FieldDef> & { type: FieldDef['type'] }> = [
  () => ({ type: 'string', length: 255 }),
  () => ({ type: 'textarea', length: 32768 }),
  () => ({ type: 'currency', precision: 16, scale: 2 }),
  () => ({ type: 'double', precision: 18, scale: 0 }),
  () => ({ type: 'percent', precision: 5, scale: 2 }),
  () => ({ type: 'boolean', defaultValue: false }),
  () => ({ type: 'date' }),
  () => ({ type: 'datetime' }),
  () => ({ type: 'email', length: 80 }),
  () => ({
    type: 'picklist',
    length: 255,
    picklistValues: picklistValues(STATUSES),
    restrictedPicklist: true,
  }),
  () => ({
    type: 'multipicklist',
    length: 4099,
    picklistValues: picklistValues(TAGS),
    restrictedPicklist: true,
  }),
  () => ({ type: 'url', length: 255 }),
];
const KIND_NAMES = [
  'Text',
  'Long_Text',
  'Amount',
  'Quantity',
  'Ratio',
  'Active',
  'Due',
  'Happened_At',
  'Email',
  'Status',
  'Tags',
  'Website',
];

function objectName(i: number): string {
  return `Gen_Object_${String(i + 1).padStart(4, '0')}__c`;
}

function dataFields(count: number): FieldDef[] {
  return Array.from({ length: count }, (_, i) => {
    const kind = i % KINDS.length;
    const round = Math.floor(i / KINDS.length);
    const name = `${KIND_NAMES[kind]}${round ? `_${round + 1}` : ''}__c`;
    return field({ name, custom: true, ...KINDS[kind]!(name) });
  });
}

function defineObjects(org: OrgApi, spec: GenerateSpec): string[] {
  const names: string[] = [];
  for (let i = 0; i < spec.objects; i++) {
    const name = objectName(i);
    const related = i === 0 ? 'Account' : objectName(i - 1);
    org.defineObject(
      sobject({ name, keyPrefix: '', label: `Generated ${i + 1}`, custom: true, owner: ['Group', 'User'] }, [
        field({ name: 'Name', type: 'string', length: 80, nameField: true, nillable: false }),
        field({
          name: 'External_Id__c',
          type: 'string',
          length: 40,
          custom: true,
          externalId: true,
          idLookup: true,
        }),
        field({
          name: 'Parent__c',
          type: 'reference',
          custom: true,
          referenceTo: [name],
          relationshipName: 'Parent__r',
          childRelationshipName: 'Children__r',
        }),
        field({
          name: 'Related__c',
          type: 'reference',
          custom: true,
          referenceTo: [related],
          relationshipName: 'Related__r',
          childRelationshipName: `Gen_${i + 1}__r`,
        }),
        ...dataFields(spec.fields),
      ]),
    );
    names.push(name);
  }
  return names;
}

function value(prng: Prng, f: FieldDef, row: number, long: readonly string[]): unknown {
  if (f.type !== 'boolean' && prng.chance(0.1)) return null;
  switch (f.type) {
    case 'string':
      return prng.pick(NASTY_STRINGS);
    case 'textarea':
      return prng.chance(0.5) ? prng.pick(long) : prng.pick(NASTY_STRINGS);
    case 'currency':
      return Math.round((prng.next() - 0.3) * 1e9) / 100;
    case 'double':
      return prng.int(2_000_000) - 1_000_000;
    case 'percent':
      return Math.round(prng.next() * 10000) / 100;
    case 'boolean':
      return prng.chance(0.5);
    case 'date':
      return randomDate(prng);
    case 'datetime':
      return randomDateTime(prng);
    case 'email':
      return EMAILS[row % EMAILS.length];
    case 'picklist':
      return prng.pick(STATUSES);
    case 'multipicklist':
      return TAGS.filter(() => prng.chance(0.4)).join(';') || null;
    case 'url':
      return URLS[row % URLS.length];
    default:
      return null;
  }
}

/**
 * Fills an org with a deterministic data set: accounts, contacts and leads; N custom objects of
 * M rows each (self-references, a lookup to the previous object, every field kind, awkward
 * values); Tasks and Events with polymorphic WhoId/WhatId; files as ContentVersion (and
 * Attachment for every tenth).
 */
export function generateInto(
  org: Org,
  specInput: GenerateSpec | string,
  options: GenerateOptions = {},
): GeneratedSummary {
  const spec = typeof specInput === 'string' ? parseGenerateSpec(specInput) : specInput;
  const prng = new Prng(spec.seed);
  const long = spec.longText === 1 ? longTexts(prng) : NASTY_STRINGS;
  const rows: Record<string, number> = {};
  const count = (name: string) => {
    rows[name] = (rows[name] ?? 0) + 1;
  };
  const accounts: string[] = [];
  for (let i = 0; i < spec.accounts; i++) {
    accounts.push(
      org.insert('Account', {
        Name: `${prng.pick(NASTY_STRINGS).slice(0, 200)} #${i}`,
        ParentId: accounts.length && prng.chance(0.3) ? prng.pick(accounts) : null,
        BillingCity: prng.pick(['Paris', 'München', 'São Paulo', 'Tōkyō', null]),
        AnnualRevenue: prng.chance(0.8) ? prng.int(1e9) : null,
        Description: prng.pick(long),
      }),
    );
    count('Account');
  }
  const contacts = accounts.map((accountId, i) => {
    count('Contact');
    return org.insert('Contact', {
      LastName: `O'Contact "${i}"`,
      FirstName: 'Zoë',
      AccountId: accountId,
      Email: `c${i}@example.com`,
    });
  });
  const leads = Array.from({ length: Math.ceil(spec.accounts / 2) }, (_, i) => {
    count('Lead');
    return org.insert('Lead', { LastName: `Lead, ${i}`, Company: prng.pick(NASTY_STRINGS) });
  });
  const objects = defineObjects(org, spec);
  const idsByObject: string[][] = [];
  objects.forEach((name, o) => {
    const fields = org
      .describe(name)
      .fields.filter(
        (f) => f.custom && f.createable && f.type !== 'reference' && f.name !== 'External_Id__c',
      );
    const names = ['Name', 'External_Id__c', 'Parent__c', 'Related__c', ...fields.map((f) => f.name)];
    const ids: string[] = [];
    const load = org.rowLoader(name, names);
    const previous = o === 0 ? accounts : idsByObject[o - 1]!;
    for (let r = 0; r < spec.rows; r++) {
      const values: unknown[] = [
        `Row ${o + 1}-${r}`,
        `EXT-${o + 1}-${r}`,
        ids.length && prng.chance(0.3) ? ids[prng.int(ids.length)] : null,
        previous.length && prng.chance(0.7) ? previous[prng.int(previous.length)] : null,
      ];
      for (const f of fields) values.push(value(prng, f, r, long));
      if (options.validate) {
        ids.push(org.insert(name, Object.fromEntries(names.map((n, i) => [n, values[i]]))));
      } else {
        ids.push(load(values));
      }
    }
    rows[name] = spec.rows;
    idsByObject.push(ids);
  });
  const whatPool = () =>
    idsByObject.length && prng.chance(0.5)
      ? prng.pick(prng.pick(idsByObject).length ? prng.pick(idsByObject) : accounts)
      : prng.pick(accounts);
  for (let i = 0; i < spec.activities; i++) {
    const lead = prng.chance(0.3);
    const who = prng.chance(0.1) ? null : lead ? prng.pick(leads) : prng.pick(contacts);
    // Salesforce refuses a WhatId on an activity whose WhoId is a lead.
    const what = lead && who ? null : whatPool();
    const start = randomDateTime(prng);
    if (i % 2 === 0) {
      const day = new Date(start).toISOString().slice(0, 10);
      org.insert('Task', {
        Subject: prng.pick(NASTY_STRINGS),
        WhoId: who,
        WhatId: what,
        ActivityDate: day,
        Description: prng.pick(long),
      });
      count('Task');
    } else {
      const duration = 15 + prng.int(8) * 15;
      const end = start + duration * 60_000;
      org.insert('Event', {
        Subject: prng.pick(NASTY_STRINGS),
        WhoId: who,
        WhatId: what,
        StartDateTime: start,
        EndDateTime: end,
        ActivityDateTime: start,
        DurationInMinutes: duration,
      });
      count('Event');
    }
  }
  for (let i = 0; i < spec.files; i++) {
    const ext = prng.pick(EXTENSIONS);
    const bytes = fileBytes(prng, 16 + prng.int(8192));
    const parent = whatPool();
    org.insert('ContentVersion', {
      Title: `File, "${i}" — ü`,
      PathOnClient: `file-${i}.${ext}`,
      VersionData: bytes,
      FirstPublishLocationId: parent,
    });
    count('ContentVersion');
    if (i % 10 === 0) {
      org.insert('Attachment', {
        ParentId: parent,
        Name: `attachment-${i}.${ext}`,
        Body: bytes,
        ContentType: 'application/octet-stream',
      });
      count('Attachment');
    }
  }
  return { spec, objects, rows };
}

/** A new org filled by `generateInto`. */
export function generateOrg(
  spec: GenerateSpec | string,
  options: OrgOptions & GenerateOptions = {},
): { org: Org; summary: GeneratedSummary } {
  const org = createOrg(options);
  return { org, summary: generateInto(org, spec, options) };
}

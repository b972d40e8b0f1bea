/**
 * Salesforce's own CLI as an independent client: every command here is one a user would type
 * against a real org, and each result is checked against the emulated org's own rows.
 */
import {
  chmodSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { XMLParser } from 'fast-xml-parser';
import { strFromU8, unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { createSfCli, type SfCli, type SfResult } from '../support/sf-cli.ts';
import { DREAMHOUSE, EBIKES } from './metadata-support.ts';

const ACCOUNTS = 4500;
const BULK_PAGE = 1000;

/** Starts an emulator holding both sample projects' schema (no rows beyond the org's own). */
function emulatorWithProjects(options: {
  username: string;
  dailyApiRequests?: number;
}): Promise<RunningEmulator> {
  return startEmulator({
    projectDirs: [DREAMHOUSE, EBIKES],
    username: options.username,
    bulkPageSize: BULK_PAGE,
    dailyApiRequests: options.dailyApiRequests,
  });
}

function expectOk(result: SfResult): unknown {
  if (result.code !== 0 || result.json?.status !== 0) {
    throw new Error(
      `sf failed (exit ${result.code}): ${result.stdout.slice(0, 2000)} ${result.stderr.slice(0, 2000)}`,
    );
  }
  return result.json?.result;
}

async function login(sf: SfCli, emulator: RunningEmulator, alias: string): Promise<Record<string, unknown>> {
  const result = await sf.run([
    'org',
    'login',
    'access-token',
    '--instance-url',
    emulator.instanceUrl,
    '--no-prompt',
    '--alias',
    alias,
    '--json',
  ]);
  return expectOk(result) as Record<string, unknown>;
}

/** Values that trip naive CSV writers and readers. */
function awkwardName(i: number): string {
  const kinds = [`Plain ${i}`, `Comma, Inc ${i}`, `Quote "Q" ${i}`, `Line\nbreak ${i}`, `Ünïcödé 日本 ${i}`];
  return kinds[i % kinds.length]!;
}

describe('Salesforce CLI (sf) against the emulator', () => {
  let emulator: RunningEmulator;
  let sf: SfCli;

  beforeAll(async () => {
    emulator = await emulatorWithProjects({ username: 'cli@emulated.org', dailyApiRequests: 50_000 });
    for (let i = 0; i < ACCOUNTS; i++) {
      emulator.org.insert('Account', {
        Name: awkwardName(i),
        Description: i % 3 === 0 ? null : `Row ${i}, "described"\nover two lines`,
        BillingCity: i % 2 === 0 ? 'Zürich' : 'Paris',
      });
    }
    sf = createSfCli({ accessToken: emulator.accessToken });
  });

  afterAll(async () => {
    sf?.cleanup();
    await emulator?.stop();
  });

  it('logs in with an access token and records the org as Salesforce describes it', async () => {
    const result = await login(sf, emulator, 'emu');
    expect(result).toMatchObject({
      orgId: emulator.orgId,
      username: 'cli@emulated.org',
      instanceApiVersion: '62.0',
    });
  });

  it('queries every row over several REST pages', async () => {
    const before = emulator.server.usage.counts().query ?? 0;
    const result = expectOk(
      await sf.run([
        'data',
        'query',
        '--query',
        'SELECT Id, Name, BillingCity FROM Account',
        '--target-org',
        'emu',
        '--json',
      ]),
    ) as { totalSize: number; records: Array<Record<string, unknown>> };
    expect(result.totalSize).toBe(ACCOUNTS);
    expect(result.records).toHaveLength(ACCOUNTS);
    const expected = new Map(
      [...emulator.org.dumpRows()].filter((r) => r.object === 'Account').map((r) => [r.id, r.values.Name]),
    );
    expect(new Map(result.records.map((r) => [r.Id, r.Name]))).toEqual(expected);
    // 4,500 rows at 2,000 per page take three pages (plus the CLI's column metadata query).
    expect((emulator.server.usage.counts().query ?? 0) - before).toBeGreaterThanOrEqual(3);
  });

  it('exports with Bulk API 2.0 over several locator pages exactly the rows the org holds', async () => {
    const output = join(sf.home, 'accounts.csv');
    const before = emulator.server.usage.counts()['bulk-results'] ?? 0;
    const result = await sf.run([
      'data',
      'export',
      'bulk',
      '--query',
      'SELECT Id, Name, Description, BillingCity FROM Account',
      '--output-file',
      output,
      '--wait',
      '5',
      '--target-org',
      'emu',
      '--json',
    ]);
    expectOk(result);
    const rows = parse(readFileSync(output), { columns: true, bom: true }) as Array<Record<string, string>>;
    const fromOrg = [...emulator.org.dumpRows()]
      .filter((r) => r.object === 'Account' && !r.isDeleted)
      .map((r) => ({
        Id: r.id,
        Name: String(r.values.Name ?? ''),
        Description: String(r.values.Description ?? ''),
        BillingCity: String(r.values.BillingCity ?? ''),
      }));
    const byId = (a: { Id?: string }, b: { Id?: string }) => String(a.Id).localeCompare(String(b.Id));
    expect(rows.sort(byId)).toEqual(fromOrg.sort(byId));
    expect((emulator.server.usage.counts()['bulk-results'] ?? 0) - before).toBe(
      Math.ceil(ACCOUNTS / BULK_PAGE),
    );
  });

  it('retrieves metadata with a manifest into a metadata directory as a zip', async () => {
    writeFileSync(
      join(sf.home, 'package.xml'),
      '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">' +
        '<types><members>*</members><name>CustomObject</name></types>' +
        '<types><members>Case.Product__c</members><name>CustomField</name></types>' +
        '<types><members>*</members><name>CustomTab</name></types>' +
        '<types><members>*</members><name>Flow</name></types><version>62.0</version></Package>',
    );
    const result = expectOk(
      await sf.run([
        'project',
        'retrieve',
        'start',
        '--manifest',
        'package.xml',
        '--target-metadata-dir',
        'mdapi',
        '--target-org',
        'emu',
        '--json',
      ]),
    ) as { status: string; success: boolean };
    expect(result).toMatchObject({ status: 'Succeeded', success: true });
    const zipPath = join(sf.home, 'mdapi', 'unpackaged.zip');
    expect(existsSync(zipPath)).toBe(true);
    const files = unzipSync(readFileSync(zipPath));
    const names = Object.keys(files).sort();
    expect(names).toEqual(
      expect.arrayContaining([
        'unpackaged/package.xml',
        'unpackaged/objects/Property__c.object',
        'unpackaged/objects/Product__c.object',
        'unpackaged/objects/Case.object',
        'unpackaged/flows/Create_property.flow',
        'unpackaged/tabs/Broker__c.tab',
      ]),
    );
    expect(names.filter((n) => n.startsWith('unpackaged/tabs/'))).toHaveLength(9);
    expect(strFromU8(files['unpackaged/objects/Property__c.object']!)).toContain(
      '<fullName>Price__c</fullName>',
    );
  });

  it('lists metadata types and components with describeMetadata and listMetadata', async () => {
    const types = expectOk(
      await sf.run(['org', 'list', 'metadata-types', '--target-org', 'emu', '--json']),
    ) as {
      metadataObjects: Array<{ xmlName: string; directoryName: string; childXmlNames: string[] }>;
    };
    const customObject = types.metadataObjects.find((t) => t.xmlName === 'CustomObject');
    expect(customObject).toMatchObject({ directoryName: 'objects' });
    expect(customObject?.childXmlNames).toContain('CustomField');
    const fields = expectOk(
      await sf.run([
        'org',
        'list',
        'metadata',
        '--metadata-type',
        'CustomField',
        '--target-org',
        'emu',
        '--json',
      ]),
    ) as Array<{ fullName: string; type: string; fileName: string }>;
    expect(fields.find((f) => f.fullName === 'Case.Product__c')).toMatchObject({
      type: 'CustomField',
      fileName: 'objects/Case.object',
    });
    expect(fields.filter((f) => f.fullName.startsWith('Property__c.'))).toHaveLength(25);
  });

  it('lists the org limits the emulator enforces', async () => {
    const result = expectOk(
      await sf.run(['org', 'list', 'limits', '--target-org', 'emu', '--json']),
    ) as Array<{
      name: string;
      max: number;
      remaining: number;
    }>;
    const daily = result.find((l) => l.name === 'DailyApiRequests');
    expect(daily?.max).toBe(50_000);
    expect(daily?.remaining).toBeLessThan(50_000);
    expect(daily?.remaining).toBeGreaterThan(50_000 - 200);
    expect(result.find((l) => l.name === 'DailyBulkV2QueryJobs')).toBeDefined();
  });
});

describe('sf data import tree of the sample orgs into an empty emulator', () => {
  let emulator: RunningEmulator;
  let sf: SfCli;

  beforeAll(async () => {
    emulator = await emulatorWithProjects({ username: 'import@emulated.org' });
    sf = createSfCli({ accessToken: emulator.accessToken });
    await login(sf, emulator, 'empty');
  });

  afterAll(async () => {
    sf?.cleanup();
    await emulator?.stop();
  });

  /** Counts the records of each object in a plan's data files. */
  function planCounts(planFile: string): Record<string, number> {
    const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Array<{ sobject: string; files: string[] }>;
    const counts: Record<string, number> = {};
    for (const step of plan) {
      for (const file of step.files) {
        const data = JSON.parse(readFileSync(join(planFile, '..', file), 'utf8')) as { records: unknown[] };
        counts[step.sobject] = (counts[step.sobject] ?? 0) + data.records.length;
      }
    }
    return counts;
  }

  it('imports both plans, resolving their references, with every record in the org', async () => {
    const plans = [
      join(DREAMHOUSE, 'data', 'sample-data-plan.json'),
      join(EBIKES, 'data', 'sample-data-plan.json'),
    ];
    expect(Object.values(emulator.org.rowCounts()).every((c) => c.live === 0 || c.live === 1)).toBe(true);
    const before = emulator.org.rowCounts();
    const expected: Record<string, number> = {};
    for (const plan of plans) {
      const result = expectOk(
        await sf.run(['data', 'import', 'tree', '--plan', plan, '--target-org', 'empty', '--json']),
      ) as Array<{
        refId: string;
        type: string;
        id: string;
      }>;
      const counts = planCounts(plan);
      expect(result).toHaveLength(Object.values(counts).reduce((a, b) => a + b, 0));
      for (const [object, count] of Object.entries(counts))
        expected[object] = (expected[object] ?? 0) + count;
    }
    const after = emulator.org.rowCounts();
    for (const [object, count] of Object.entries(expected)) {
      expect({ object, added: (after[object]?.live ?? 0) - (before[object]?.live ?? 0) }).toEqual({
        object,
        added: count,
      });
    }
    // Every property's broker lookup points at an imported broker.
    const brokers = new Set(
      [...emulator.org.dumpRows()].filter((r) => r.object === 'Broker__c').map((r) => r.id),
    );
    const properties = [...emulator.org.dumpRows()].filter((r) => r.object === 'Property__c');
    expect(properties.length).toBeGreaterThan(0);
    expect(properties.every((p) => brokers.has(String(p.values.Broker__c)))).toBe(true);
  });
});

/** Every file under a folder, as paths relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path, `${prefix}${name}/`) : [`${prefix}${name}`];
  });
}

/** A writable copy of a read-only sample project. */
function copyProject(source: string, target: string): string {
  cpSync(source, target, { recursive: true });
  for (const path of [target, ...filesUnder(target).map((f) => join(target, f))]) chmodSync(path, 0o755);
  for (const dir of filesUnder(target).map((f) => join(target, f, '..'))) chmodSync(dir, 0o755);
  return target;
}

describe('sf project deploy and retrieve in source format', () => {
  let emulator: RunningEmulator;
  let sf: SfCli;

  beforeAll(async () => {
    emulator = await startEmulator({ projectDirs: [DREAMHOUSE], username: 'source@emulated.org' });
    sf = createSfCli({ accessToken: emulator.accessToken });
    await login(sf, emulator, 'source');
  });

  afterAll(async () => {
    sf?.cleanup();
    await emulator?.stop();
  });

  it('deploys a whole project, then retrieves its objects back into source files equal to the originals', async () => {
    const project = copyProject(EBIKES, join(sf.home, 'ebikes'));
    const deployed = expectOk(
      await sf.run(
        ['project', 'deploy', 'start', '--source-dir', 'force-app', '--target-org', 'source', '--json'],
        project,
      ),
    ) as { status: string; success: boolean; numberComponentsDeployed: number };
    expect(deployed).toMatchObject({ status: 'Succeeded', success: true });
    expect(deployed.numberComponentsDeployed).toBeGreaterThan(40);

    const objectsDir = join(project, 'force-app', 'main', 'default', 'objects');
    const parser = new XMLParser({ parseTagValue: false });
    rmSync(objectsDir, { recursive: true });
    writeFileSync(
      join(project, 'package.xml'),
      '<?xml version="1.0" encoding="UTF-8"?><Package xmlns="http://soap.sforce.com/2006/04/metadata">' +
        '<types><members>*</members><name>CustomObject</name></types>' +
        '<types><members>Case.Case_Category__c</members><members>Case.Product__c</members><name>CustomField</name></types>' +
        '<types><members>Case.My_Cases</members><name>ListView</name></types><version>62.0</version></Package>',
    );
    expectOk(
      await sf.run(
        ['project', 'retrieve', 'start', '--manifest', 'package.xml', '--target-org', 'source', '--json'],
        project,
      ),
    );

    const original = join(EBIKES, 'force-app', 'main', 'default', 'objects');
    const expected = filesUnder(original).sort();
    // The org also holds dreamhouse's objects, which the wildcard brings along; and the CLI writes
    // an empty parent file for a standard object whose fields alone were retrieved.
    const fromEbikes = filesUnder(objectsDir).filter((f) => !/^(Broker__c|Property__c)\//.test(f));
    expect(fromEbikes.sort()).toEqual([...expected, 'Case/Case.object-meta.xml'].sort());
    expect(parser.parse(readFileSync(join(objectsDir, 'Case/Case.object-meta.xml'), 'utf8'))).toEqual({
      '?xml': '',
      CustomObject: '',
    });
    for (const file of expected) {
      const want = parser.parse(readFileSync(join(original, file), 'utf8'));
      const got = parser.parse(readFileSync(join(objectsDir, file), 'utf8'));
      expect({ file, content: got }).toEqual({ file, content: want });
    }
  });
});

describe("sf over https with the emulator's own certificate authority", () => {
  it('logs in and lists limits when the CA is trusted through NODE_EXTRA_CA_CERTS', async () => {
    const emulator = await startEmulator({ tls: true, username: 'tls@emulated.org' });
    const sf = createSfCli({ accessToken: emulator.accessToken, caCertificate: emulator.caCertificate });
    try {
      expect(emulator.instanceUrl).toMatch(/^https:/);
      expect(await login(sf, emulator, 'tls')).toMatchObject({
        orgId: emulator.orgId,
        username: 'tls@emulated.org',
      });
      const limits = expectOk(
        await sf.run(['org', 'list', 'limits', '--target-org', 'tls', '--json']),
      ) as Array<{ name: string }>;
      expect(limits.map((l) => l.name)).toContain('DailyApiRequests');
    } finally {
      sf.cleanup();
      await emulator.stop();
    }
  });
});

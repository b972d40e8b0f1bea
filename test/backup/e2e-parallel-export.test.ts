import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { type BackupSummary, runLocalBackup } from '../../cli/commands/backup.ts';
import type { SnsMessage, TaskStep } from '../../cli/local/index.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import { apiCallsUsed, dumpRows, freshStoreDir, latest, snapshotRows, TEST_SETTINGS } from './e2e-support.ts';

const OBJECT = 'Gen_Object_0001__c';
const ROWS = 230;
const PAGE = 20;
const PAGES = Math.ceil(ROWS / PAGE);
/** Settings that send the generated object to four workers. */
const PARALLEL = { exportWorkers: 4, parallelExportMinRows: 50 };

/** A Lambda that died, as Step Functions names it: not retried. */
class LambdaCrash extends Error {
  override readonly name = 'Lambda.Unknown';
}

/** A Lambda invocation that failed in the service: retried with backoff. */
class LambdaServiceFailure extends Error {
  override readonly name = 'Lambda.ServiceException';
}

async function run(
  emu: RunningEmulator,
  dir: string,
  settings: Record<string, unknown>,
  onTask?: (step: TaskStep) => void,
): Promise<{ summary: BackupSummary; sns: SnsMessage[]; steps: TaskStep[] }> {
  const sns: SnsMessage[] = [];
  const steps: TaskStep[] = [];
  const { summary } = await runLocalBackup({
    instanceUrl: emu.instanceUrl,
    accessToken: emu.accessToken,
    store: dir,
    mode: 'full',
    org: 'sample',
    settings: { ...TEST_SETTINGS, metadata: false, files: false, includeObjects: [OBJECT], ...settings },
    retryIntervalScale: 0,
    // Every Lambda, S3 and Step Functions call is checked against the synthesized policies.
    enforcePolicies: true,
    onSns: (m) => {
      sns.push(m);
    },
    onTask: (step) => {
      steps.push(step);
      onTask?.(step);
    },
  });
  return { summary, sns, steps };
}

/** The snapshot holds exactly the org's rows of the object, value for value. */
async function expectExact(emu: RunningEmulator, dir: string): Promise<void> {
  const dump = (await dumpRows(emu)).get(OBJECT)!;
  const rows = await snapshotRows(dir, OBJECT);
  expect(rows.size).toBe(ROWS);
  expect([...rows.keys()].sort()).toEqual([...dump.keys()].sort());
  for (const [id, values] of rows) expect(values.Name).toBe(String(dump.get(id)!.Name ?? ''));
}

describe('one large object exported by several workers', () => {
  let emu: RunningEmulator | undefined;
  afterEach(async () => {
    await emu?.stop();
    emu = undefined;
  });

  async function start(gzipLevel?: number): Promise<RunningEmulator> {
    emu = await startEmulator({
      generate: `objects=1,rows=${ROWS},fields=12,seed=7,files=0,activities=0`,
      bulkPageSize: PAGE,
      ...(gzipLevel === undefined ? {} : { gzipLevel }),
    });
    return emu;
  }

  it('stores every result page once, as Salesforce compressed it, and the snapshot equals the org', async () => {
    // The org compresses at another level than the export would: a part compressed again would differ.
    const org = await start(6);
    const dir = freshStoreDir();
    const before = await apiCallsUsed(org);
    const { summary, steps } = await run(org, dir, PARALLEL);
    expect(summary.status, summary.problems.join('; ')).toBe('complete');
    await expectExact(org, dir);

    const manifest = (await latest(dir)).target;
    const object = manifest.objects.find((o) => o.name === OBJECT)!;
    expect(object.parts).toHaveLength(PAGES);
    expect(object.rows).toBe(ROWS);
    // Pages in order: part n holds page n's rows (the server's page size, the last one shorter).
    expect(object.parts.map((p) => p.rows)).toEqual([
      ...Array.from({ length: PAGES - 1 }, () => PAGE),
      ROWS - PAGE * (PAGES - 1),
    ]);
    // Four workers ran, each looping on its own pages.
    const workerRuns = steps.filter((s) => s.state === 'ExportPages' && s.phase === 'after');
    expect(workerRuns.length).toBe(4);
    const after = await apiCallsUsed(org);
    const delta = (endpoint: string) =>
      (after.byEndpoint[endpoint] ?? 0) - (before.byEndpoint[endpoint] ?? 0);
    expect(delta('bulk-result-pages')).toBe(Math.ceil(PAGES / 5));
    expect(delta('bulk-results')).toBe(PAGES);
    // Every byte stored is a byte the org sent compressed.
    expect(object.parts.reduce((n, p) => n + p.bytes, 0)).toBe(org.server.usage.bulkResultBytesSentTotal);

    // The stored bytes are the ones the org sent: the same gzip, byte for byte, as a direct read
    // of the first page asked compressed (nothing was inflated and compressed again).
    const job = (await (
      await fetch(`${org.instanceUrl}/services/data/v62.0/jobs/query`, {
        method: 'POST',
        headers: { authorization: `Bearer ${org.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          operation: 'queryAll',
          query: queryOf(readCsvHeader(dir, object.parts[0]!.key)),
        }),
      })
    ).json()) as { id: string };
    await waitComplete(org, job.id);
    const { rawGet } = await import('../../lambdas/adapters/salesforce/raw-get.ts');
    const direct = await rawGet(`${org.instanceUrl}/services/data/v62.0/jobs/query/${job.id}/results`, {
      authorization: `Bearer ${org.accessToken}`,
      'accept-encoding': 'gzip',
    });
    expect(direct.headers.get('content-encoding')).toBe('gzip');
    const sent = Buffer.from(await direct.arrayBuffer());
    expect(createHash('sha256').update(sent).digest('hex')).toBe(object.parts[0]!.sha256);
  });

  it('retries a worker that died after writing a page, and no page is counted twice', async () => {
    const org = await start();
    const dir = freshStoreDir();
    let crashes = 0;
    let finished = 0;
    const { summary } = await run(org, dir, { ...PARALLEL, maxPagesPerInvocation: 1 }, (step) => {
      // The 2nd and 5th worker invocations fail after their page is written (the service, then
      // the Lambda itself): their answers are lost, and each is run again from its checkpoint.
      if (step.state === 'ExportPages' && step.phase === 'after') {
        finished++;
        if (finished === 2) {
          crashes++;
          throw new LambdaServiceFailure('the invocation failed in the service');
        }
        if (finished === 5) {
          crashes++;
          throw new LambdaCrash('the worker died mid-share');
        }
      }
    });
    expect(summary.status, summary.problems.join('; ')).toBe('complete');
    expect(crashes).toBe(2);
    await expectExact(org, dir);
    const object = (await latest(dir)).target.objects.find((o) => o.name === OBJECT)!;
    expect(object.parts).toHaveLength(PAGES);
    expect(new Set(object.parts.map((p) => p.key)).size).toBe(PAGES);
    // The dead invocations' parts were written again under new names; the snapshot lists only one per page.
    const pageNumbers = object.parts.map((p) => /part-(\d+)-/.exec(p.key)![1]);
    expect(pageNumbers).toEqual(Array.from({ length: PAGES }, (_, i) => String(i + 1).padStart(5, '0')));
  });

  it('retries a page cut mid-body and a page list answered 503, and ends exact', async () => {
    const org = await start();
    const dir = freshStoreDir();
    await fetch(`${org.instanceUrl}/__emulator/faults`, {
      method: 'POST',
      body: JSON.stringify({ spec: 'bulk-results:cut=200#3,bulk-result-pages:503#1' }),
    });
    const { summary } = await run(org, dir, PARALLEL);
    expect(summary.status, summary.problems.join('; ')).toBe('complete');
    await expectExact(org, dir);
    // The faults really fired.
    const { rules } = (await (await fetch(`${org.instanceUrl}/__emulator/faults`)).json()) as {
      rules: { remaining: number | null }[];
    };
    expect(rules.map((r) => r.remaining)).toEqual([0, 0]);
  });

  it('fails the object, alerts and marks nothing complete when a worker dies for good; the next run is whole', async () => {
    const org = await start();
    const dir = freshStoreDir();
    let crashes = 0;
    const failed = await run(org, dir, { ...PARALLEL, maxPagesPerInvocation: 1 }, (step) => {
      // Every worker invocation kills its Lambda: the two retries of each die too.
      if (step.state === 'ExportPages' && step.phase === 'after') {
        crashes++;
        throw new LambdaCrash('the worker ran out of memory');
      }
    });
    expect(crashes).toBeGreaterThanOrEqual(3);
    expect(failed.summary.status).toBe('failed');
    expect(failed.summary.problems.join('\n')).toMatch(new RegExp(`${OBJECT}: Lambda.Unknown`));
    expect(failed.sns.map((m) => m.message).join('\n')).toMatch(/FAILED and was not marked complete/);
    expect(() => readFileSync(join(dir, 'orgs', 'sample', 'latest-complete.json'))).toThrow();

    const again = await run(org, dir, PARALLEL);
    expect(again.summary.status, again.summary.problems.join('; ')).toBe('complete');
    await expectExact(org, dir);
  });

  it('reads a small object, and any object when workers are off, as one stream', async () => {
    const org = await start();
    for (const settings of [{ exportWorkers: 4, parallelExportMinRows: ROWS + 1 }, { exportWorkers: 1 }]) {
      const dir = freshStoreDir();
      const before = await apiCallsUsed(org);
      const { summary, steps } = await run(org, dir, { ...settings, pageSize: 100 });
      expect(summary.status, summary.problems.join('; ')).toBe('complete');
      await expectExact(org, dir);
      expect(steps.some((s) => s.state === 'ExportPages')).toBe(false);
      const after = await apiCallsUsed(org);
      expect(
        (after.byEndpoint['bulk-result-pages'] ?? 0) - (before.byEndpoint['bulk-result-pages'] ?? 0),
      ).toBe(0);
      const object = (await latest(dir)).target.objects.find((o) => o.name === OBJECT)!;
      expect(object.parts).toHaveLength(Math.ceil(ROWS / 100));
    }
  });
});

/** The header row of a stored part: the columns the export selected. */
function readCsvHeader(dir: string, key: string): string[] {
  const text = gunzipSync(readFileSync(join(dir, key))).toString('utf8');
  return text
    .slice(0, text.indexOf('\n'))
    .split(',')
    .map((c) => c.replace(/^"|"$/g, ''));
}

function queryOf(columns: readonly string[]): string {
  return `SELECT ${columns.join(', ')} FROM ${OBJECT}`;
}

async function waitComplete(emu: RunningEmulator, id: string): Promise<void> {
  for (;;) {
    const job = (await (
      await fetch(`${emu.instanceUrl}/services/data/v62.0/jobs/query/${id}`, {
        headers: { authorization: `Bearer ${emu.accessToken}` },
      })
    ).json()) as { state: string };
    if (job.state === 'JobComplete') return;
    if (job.state === 'Failed' || job.state === 'Aborted') throw new Error(`job ${id} ${job.state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

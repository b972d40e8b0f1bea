/**
 * Benchmark "erase": an erasure's plan (a dry run by id: the pass resolving her ids and the pass
 * finding every key that holds her) and its last scan, over a vault of stored objects each read
 * after a modelled S3 latency, with its passes reading ahead (as they do) and with every read
 * waiting for the one before (as they did). S3 answers a small GET in tens of milliseconds
 * ("Timeouts and Retries for Latency-Sensitive Applications", Best Practices Design Patterns:
 * Optimizing Amazon S3 Performance): 30 ms per read is modelled, whatever the size. Only body reads
 * are: the listings and the plan's lock checks (two requests a version it would remove from) cost
 * the same in both modes and are left out, so the ratio is of the reading alone.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LocalDirectoryStore } from '../lambdas/adapters/local-store.ts';
import { canonical18 } from '../lambdas/core/erase/find.ts';
import { scanForTraces } from '../lambdas/core/erase/finish.ts';
import { parseEraseInput } from '../lambdas/core/erase/input.ts';
import { planErasure } from '../lambdas/core/erase/plan.ts';
import type { VersionedStore } from '../lambdas/core/store.ts';
import type { BenchOptions } from './options.ts';
import type { Report } from './report.ts';

const READ_LATENCY_MS = 30;
const ROWS_PER_PART = 200;
const OBJECTS = ['Account', 'Contact', 'Case', 'Opportunity', 'Task'];
const PERSON = canonical18('0035g00000ErAsE');

/** A vault of `count` objects: snapshots of five objects' parts, and each snapshot's manifest. */
async function buildVault(dir: string, count: number): Promise<number> {
  const store = new LocalDirectoryStore(dir);
  let written = 0;
  for (let s = 0; written < count; s++) {
    const snapshot = `20261101T${String(s).padStart(6, '0')}000Z-bench0`;
    const prefix = `orgs/acme/snapshots/${snapshot}/`;
    for (const object of OBJECTS) {
      if (written >= count) break;
      const rows = [`"Id","Name","Email","Description"`];
      for (let r = 0; r < ROWS_PER_PART; r++) {
        const id =
          object === 'Contact' && r === 0 ? PERSON : `0035g0000${String(s * 1000 + r).padStart(6, '0')}AAA`;
        rows.push(
          `"${id}","Name ${r}","person${r}@example.com","A note of ${object} ${r}, kept as written."`,
        );
      }
      await store.put(
        `${prefix}objects/${object}/part-00001-aaaaaaaa.csv.gz`,
        gzipSync(`${rows.join('\n')}\n`),
      );
      written++;
    }
    if (written < count) {
      await store.put(`${prefix}manifest.json`, JSON.stringify({ snapshotId: snapshot, objects: OBJECTS }));
      written++;
    }
  }
  return written;
}

/** The store, each read answered after the modelled latency; `oneAtATime`, each read after the one before. */
function withLatency(
  store: LocalDirectoryStore,
  oneAtATime: boolean,
): { store: VersionedStore; reads: () => number } {
  let reads = 0;
  let queue: Promise<unknown> = Promise.resolve();
  const read = async (key: string, versionId: string) => {
    reads++;
    await new Promise((r) => setTimeout(r, READ_LATENCY_MS));
    return store.getVersion(key, versionId);
  };
  return {
    reads: () => reads,
    store: {
      location: store.location,
      listVersions: (prefix, options) => store.listVersions(prefix, options),
      getVersion: (key, versionId) => {
        if (!oneAtATime) return read(key, versionId);
        const next = queue.then(() => read(key, versionId));
        queue = next.catch(() => undefined);
        return next;
      },
      replace: (key, body, options) => store.replace(key, body, options),
      deleteVersion: (key, versionId) => store.deleteVersion(key, versionId),
      versionLock: (key, versionId) => store.versionLock(key, versionId),
    },
  };
}

/** One plan and scan: seconds, reads, and what they found (both modes must find the same). */
async function planAndScan(store: VersionedStore): Promise<{ seconds: number; found: string }> {
  const request = parseEraseInput({ ids: [PERSON], requestedBy: 'bench@example.com' });
  const started = process.hrtime.bigint();
  const plan = await planErasure(store, 'acme', request, { execution: 'bench', now: new Date() });
  const scan = await scanForTraces(store, 'acme', plan.ids, []);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, found: JSON.stringify([plan.summary, plan.keys, scan.versionsScanned, scan.traces]) };
}

/** Runs benchmark "erase". */
export async function benchErase(report: Report, o: BenchOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sfbackup-bench-erase-'));
  try {
    const objects = await buildVault(dir, o.eraseObjects);
    const local = new LocalDirectoryStore(dir);
    const ahead = withLatency(local, false);
    const serial = withLatency(local, true);
    const readAhead = await planAndScan(ahead.store);
    const oneByOne = await planAndScan(serial.store);
    if (readAhead.found !== oneByOne.found || ahead.reads() !== serial.reads())
      throw new Error(
        `The two modes found or read different things: ${ahead.reads()} reads and ${readAhead.found}; ${serial.reads()} reads and ${oneByOne.found}`,
      );
    const add = report.section(
      `Erasure plan and scan: ${objects.toLocaleString('en-US')} stored objects, ${READ_LATENCY_MS} ms a read`,
    );
    add('erase.reads', 'reads of the plan and the scan', ahead.reads(), 'reads');
    add('erase.read_ahead_seconds', 'plan and scan, reading ahead', readAhead.seconds, 's');
    add('erase.one_at_a_time_seconds', 'plan and scan, one read at a time', oneByOne.seconds, 's');
    const ratio = oneByOne.seconds / readAhead.seconds;
    add('erase.ratio.one_at_a_time_to_read_ahead', 'time: one at a time / reading ahead', ratio, 'ratio', [
      '>= 4',
      ratio >= 4,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

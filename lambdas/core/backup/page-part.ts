import { pipeline, Readable } from 'node:stream';
import { createGunzip, createGzip, type Gunzip } from 'node:zlib';
import { ErrorName } from '../../../contract/workflow-contract.ts';
import type { SnapshotPart } from '../snapshot/manifest.ts';
import { type BulkResultPage, SalesforceTransientError } from '../salesforce.ts';
import type { BackupStore } from '../store.ts';
import { CsvScanner } from './csv-scan.ts';

/**
 * One page on its way into the vault as one gzip part: the bytes to store, and the scan of its
 * CSV (rows, deletes, whether it ended inside a quoted value) to check against what Salesforce said.
 */
export interface PartSource {
  /** Rows Salesforce says the page holds, null when it did not say. */
  readonly expectedRows: number | null;
  /** The gzip bytes to store: as Salesforce sent them when it compressed the page, else compressed here. */
  stored(gzipLevel: number): Readable;
  /** The scan, once every byte was stored; rejects when a compressed page was cut or corrupt. */
  scanned(): Promise<CsvScanner>;
  /** Where the next page starts: a Bulk locator or a REST next URL; null after the last. */
  nextLocator(): string | null;
}

/** A part of plain CSV bytes, compressed on the way into the store. */
export function plainPart(
  body: AsyncIterable<Uint8Array>,
  expectedRows: number | null,
  nextLocator: () => string | null,
): PartSource {
  const scanner = new CsvScanner();
  let complete = false;
  async function* scannedBody() {
    for await (const chunk of body) {
      scanner.push(chunk);
      yield chunk;
    }
    scanner.end();
    complete = true;
  }
  return {
    expectedRows,
    stored: (level) => gzipped(scannedBody(), level),
    scanned: async () => {
      if (!complete) throw new Error('The part was not stored whole; its scan is incomplete.');
      return scanner;
    },
    nextLocator,
  };
}

/**
 * A Bulk results page as a part. A page Salesforce compressed is stored as it came, hashed and
 * counted while it streams: a second inflater beside the upload feeds the scanner, so the rows are
 * checked without compressing anything again or reading the page twice.
 */
export function bulkPagePart(page: BulkResultPage): PartSource {
  const next = () => page.nextLocator;
  if (page.encoding !== 'gzip') return plainPart(page.body, page.records, next);
  const scanner = new CsvScanner();
  const inflater = createGunzip({ chunkSize: 256 * 1024 });
  inflater.on('data', (chunk: Buffer) => scanner.push(chunk));
  // Writes after a failure may report it again; the first report is the one kept.
  inflater.on('error', () => undefined);
  const inflated = new Promise<void>((resolve, reject) => {
    inflater.once('end', resolve);
    inflater.once('error', reject);
  });
  // Observed by scanned(); a failed upload never asks, and its rejection must not go unhandled.
  inflated.catch(() => undefined);
  const failed = () => inflater.destroyed || inflater.errored !== null;
  async function* passed() {
    let ended = false;
    try {
      for await (const chunk of page.body) {
        // Once the page does not inflate, scanned() reports it; the bytes still go by, unread.
        if (!failed() && !inflater.write(chunk)) await drained(inflater);
        yield chunk;
      }
      if (!failed()) inflater.end();
      ended = true;
    } finally {
      if (!ended) inflater.destroy(new Error('The page was not read to its end.'));
    }
  }
  return {
    expectedRows: page.records,
    stored: () => Readable.from(passed(), { objectMode: false }),
    scanned: async () => {
      try {
        await inflated;
      } catch (error) {
        throw new CompressedPageError((error as Error).message);
      }
      scanner.end();
      return scanner;
    },
    nextLocator: next,
  };
}

/** A compressed page that does not inflate whole: cut on the way, or not gzip at all. */
export class CompressedPageError extends Error {
  override readonly name = ErrorName.CompressedPage;
}

/** Resolves when the inflater takes more input, or when it failed (the failure is reported by scanned()). */
function drained(inflater: Gunzip): Promise<void> {
  return new Promise((resolve) => {
    // A destroyed stream sends no more events.
    if (inflater.destroyed) return resolve();
    const done = () => {
      inflater.off('drain', done);
      inflater.off('error', done);
      inflater.off('close', done);
      resolve();
    };
    inflater.on('drain', done);
    inflater.on('error', done);
    inflater.on('close', done);
  });
}

/** Plain CSV compressed for the store. */
export function gzipped(body: AsyncIterable<Uint8Array>, level: number): Readable {
  // Larger chunks mean fewer hand-offs between the main thread and zlib's worker thread.
  const gzip = createGzip({ level, chunkSize: 256 * 1024 });
  // pipeline carries a failed download into gzip (so the store's write fails and nothing is kept)
  // and listens for the error itself, so it never surfaces as an uncaught exception.
  pipeline(Readable.from(body), gzip, () => {});
  return gzip;
}

/**
 * The scan of a stored part, refused when the page arrived incomplete: cut inside a quoted value,
 * fewer or more rows than Salesforce said, or a compressed page that does not inflate whole. The
 * part stays unlisted, and the page is fetched again.
 */
export async function checkedScan(part: PartSource, what: string): Promise<CsvScanner> {
  let scanner: CsvScanner;
  try {
    scanner = await part.scanned();
  } catch (error) {
    if (!(error instanceof CompressedPageError)) throw error;
    throw new SalesforceTransientError(`${what} arrived cut (${error.message}); it will be fetched again.`);
  }
  if (scanner.endedInsideQuotes || (part.expectedRows !== null && scanner.dataRows !== part.expectedRows)) {
    throw new SalesforceTransientError(
      `${what} arrived incomplete (${scanner.dataRows} rows, Salesforce said ${part.expectedRows ?? 'unknown'}); it will be fetched again.`,
    );
  }
  return scanner;
}

/** A page stored as one part: the part as the manifest lists it, and the page's deleted rows. */
export interface StoredPart {
  readonly part: SnapshotPart;
  readonly deletedRows: number;
  /** The first few deleted rows' ids. */
  readonly deletedIds: readonly string[];
}

/** Stores a page as the part `key` and checks it (see `checkedScan`); `what` names the page in errors. */
export async function storePart(
  store: BackupStore,
  key: string,
  page: PartSource,
  gzipLevel: number,
  what: string,
): Promise<StoredPart> {
  const stored = await store.putStream(key, page.stored(gzipLevel), {
    contentType: 'text/csv',
    contentEncoding: 'gzip',
  });
  const scanner = await checkedScan(page, what);
  return {
    part: {
      key,
      rows: scanner.dataRows,
      bytes: stored.bytes,
      sha256: stored.sha256,
      ...(stored.versionId ? { versionId: stored.versionId } : {}),
    },
    deletedRows: scanner.deletedRows,
    deletedIds: scanner.deletedIds,
  };
}

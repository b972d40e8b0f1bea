/** The pull limit: Bulk API 2.0 result pages fetched over HTTP and thrown away. */
import { rawGet } from '../lambdas/adapters/salesforce/raw-get.ts';

export interface BulkTarget {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly apiVersion: string;
}

/** Creates a Bulk 2.0 query job and waits until Salesforce reports it complete. */
export async function createCompletedQueryJob(target: BulkTarget, soql: string): Promise<string> {
  const base = `${target.instanceUrl}/services/data/v${target.apiVersion}/jobs/query`;
  const created = await fetch(base, {
    method: 'POST',
    headers: { authorization: `Bearer ${target.accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ operation: 'queryAll', query: soql }),
  });
  if (!created.ok)
    throw new Error(`Bulk job creation failed: HTTP ${created.status} ${await created.text()}`);
  const { id } = (await created.json()) as { id: string };
  for (;;) {
    const res = await fetch(`${base}/${id}`, { headers: { authorization: `Bearer ${target.accessToken}` } });
    const job = (await res.json()) as { state: string; errorMessage?: string };
    if (job.state === 'JobComplete') return id;
    if (job.state === 'Failed' || job.state === 'Aborted')
      throw new Error(`Bulk job ${id} ${job.state}: ${job.errorMessage}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Reads every result page of a job the fastest way Salesforce offers: the page URLs listed by
 * `resultPages`, `concurrency` pages at a time, each asked compressed and received as sent. Bytes
 * are what came over the wire; rows are Salesforce's counts.
 */
export async function pullPagesInParallel(
  target: BulkTarget,
  jobId: string,
  concurrency: number,
): Promise<{ rows: number; bytes: number; pages: number }> {
  const auth = { authorization: `Bearer ${target.accessToken}` };
  const urls: string[] = [];
  let next: string | null = `/services/data/v${target.apiVersion}/jobs/query/${jobId}/resultPages`;
  while (next) {
    const res = await fetch(`${target.instanceUrl}${next}`, { headers: auth });
    if (!res.ok) throw new Error(`resultPages failed: HTTP ${res.status} ${await res.text()}`);
    const answer = (await res.json()) as {
      resultPages: { resultUrl: string }[];
      nextRecordsUrl: string | null;
      done: boolean;
    };
    urls.push(...answer.resultPages.map((p) => p.resultUrl));
    next = answer.done ? null : answer.nextRecordsUrl;
  }
  let rows = 0;
  let bytes = 0;
  let at = 0;
  async function reader(): Promise<void> {
    while (at < urls.length) {
      const url = urls[at++]!;
      const res = await rawGet(`${target.instanceUrl}${url}`, { ...auth, 'accept-encoding': 'gzip' });
      if (!res.ok || !res.body) throw new Error(`Results page failed: HTTP ${res.status}`);
      for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
      rows += Number(res.headers.get('sforce-numberofrecords') ?? 'NaN');
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, urls.length) }, reader));
  return { rows, bytes, pages: urls.length };
}

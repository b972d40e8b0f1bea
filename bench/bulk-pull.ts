/** The pull limit: Bulk API 2.0 result pages fetched over HTTP and thrown away. */

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

/** Reads every result page of a job, counting rows and bytes but keeping nothing. */
export async function pullAndDiscard(
  target: BulkTarget,
  jobId: string,
  maxRecords: number,
): Promise<{ rows: number; bytes: number }> {
  let locator: string | undefined;
  let rows = 0;
  let bytes = 0;
  do {
    const params = new URLSearchParams({ maxRecords: String(maxRecords) });
    if (locator) params.set('locator', locator);
    const url = `${target.instanceUrl}/services/data/v${target.apiVersion}/jobs/query/${jobId}/results?${params}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${target.accessToken}` } });
    if (!res.ok || !res.body) throw new Error(`Results page failed: HTTP ${res.status}`);
    for await (const chunk of res.body) bytes += (chunk as Uint8Array).byteLength;
    rows += Number(res.headers.get('sforce-numberofrecords') ?? 'NaN');
    const next = res.headers.get('sforce-locator');
    locator = next && next !== 'null' ? next : undefined;
  } while (locator);
  return { rows, bytes };
}

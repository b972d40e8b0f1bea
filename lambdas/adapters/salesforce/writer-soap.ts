import type {
  DeployState,
  RetrieveState,
  RowError,
  SnapshotComponent,
  WriteResult,
} from '../../core/restore/model.ts';
import { retrieveRequest } from './metadata-soap.ts';
import type { SalesforceHttp } from './writer-http.ts';

// Writes and their status checks are not repeated here: a lost answer is settled by the restore's
// reconcile. jsforce renews an expired session and resends the call with the renewed session id.

/** Undeletes up to 200 ids through the SOAP API; results in the order of the ids. */
export async function undeleteIds(http: SalesforceHttp, ids: readonly string[]): Promise<WriteResult[]> {
  const results = await http.connection.api(`SOAP undelete`, (conn) => conn.soap.undelete([...ids]));
  return results.map((r) => ({
    id: r.id ? r.id : null,
    success: r.success,
    errors: (r.errors ?? []).map(
      (e): RowError => ({
        statusCode: e.statusCode ?? 'UNKNOWN_EXCEPTION',
        message: e.message ?? '',
        fields: e.fields ?? [],
      }),
    ),
  }));
}

/** Starts a Metadata API deploy of a zip; `checkOnly` validates without saving. */
export async function deployZip(http: SalesforceHttp, zip: Uint8Array, checkOnly: boolean): Promise<string> {
  const result = await http.connection.api(
    'Metadata API deploy',
    async (conn) =>
      await conn.metadata.deploy(Buffer.from(zip), {
        checkOnly,
        ignoreWarnings: false,
        rollbackOnError: true,
        singlePackage: true,
      }),
  );
  return result.id ?? '';
}

/** Reads a deploy's state, with every component failure. */
export async function checkDeployStatus(http: SalesforceHttp, id: string): Promise<DeployState> {
  const r = await http.connection.api('Metadata API checkDeployStatus', (conn) =>
    conn.metadata.checkDeployStatus(id, true),
  );
  const failures = (r.details?.componentFailures ?? []).map((f) => ({
    component: `${f.componentType ?? ''}:${f.fullName ?? ''}`,
    problem: f.problem ?? '',
  }));
  if (r.errorMessage && failures.length === 0 && !r.success) {
    failures.push({ component: '(deploy)', problem: r.errorMessage });
  }
  return { id, done: r.done, success: r.success, failures, status: r.status ?? '' };
}

/** Starts a Metadata API retrieve of the components, as one package (no `unpackaged/` folder). */
export async function retrieveComponents(
  http: SalesforceHttp,
  components: readonly SnapshotComponent[],
): Promise<string> {
  const byType = new Map<string, string[]>();
  for (const c of components) byType.set(c.type, [...(byType.get(c.type) ?? []), c.fullName]);
  const types = [...byType].map(([name, members]) => ({ members, name }));
  const result = await http.connection.api(
    'Metadata API retrieve',
    async (conn) => await conn.metadata.retrieve(retrieveRequest(conn, types)),
  );
  return result.id ?? '';
}

/** Reads a retrieve's state, with its zip once done. */
export async function checkRetrieve(http: SalesforceHttp, id: string): Promise<RetrieveState> {
  const r = await http.connection.api('Metadata API checkRetrieveStatus', (conn) =>
    conn.metadata.checkRetrieveStatus(id),
  );
  return {
    id,
    done: r.done,
    success: r.success,
    ...(r.errorMessage ? { errorMessage: r.errorMessage } : {}),
    ...(r.zipFile ? { zip: new Uint8Array(Buffer.from(r.zipFile, 'base64')) } : {}),
  };
}

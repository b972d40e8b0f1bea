import { ErrorName } from '../../../contract/workflow-contract.ts';
import { type BackupStore, ObjectExistsError, ObjectNotFoundError } from '../store.ts';

/** Reads a JSON object from the store, or undefined when there is none. */
export async function readJson<T>(store: BackupStore, key: string): Promise<T | undefined> {
  try {
    return JSON.parse(new TextDecoder().decode(await store.get(key))) as T;
  } catch (error) {
    if (error instanceof ObjectNotFoundError || (error as Error).name === ErrorName.ObjectNotFound)
      return undefined;
    throw error;
  }
}

/**
 * Writes a JSON object once. A retried step that finds its own object already written with the
 * same content carries on; different content under the same key is a real conflict and throws.
 */
export async function writeJsonOnce(store: BackupStore, key: string, value: unknown): Promise<void> {
  const body = JSON.stringify(value);
  try {
    await store.put(key, body, { contentType: 'application/json' });
  } catch (error) {
    if (!(error instanceof ObjectExistsError || (error as Error).name === ErrorName.ObjectExists))
      throw error;
    const existing = new TextDecoder().decode(await store.get(key));
    if (existing !== body) throw error;
  }
}

/**
 * Writes a record (JSON unless another content type is given) unless its key is written already
 * (a retried step, another writer of the same record): for records whose key says all that
 * matters, such as lease records.
 */
export async function putIfAbsent(
  store: BackupStore,
  key: string,
  body: string | Uint8Array,
  contentType = 'application/json',
): Promise<void> {
  try {
    await store.put(key, body, { contentType });
  } catch (error) {
    if (!(error instanceof ObjectExistsError || (error as Error).name === ErrorName.ObjectExists))
      throw error;
  }
}

/** Every key under a prefix. */
export async function listKeys(store: BackupStore, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(prefix)) keys.push(entry.key);
  return keys;
}

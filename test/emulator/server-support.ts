import jsforce from 'jsforce';
import { type RunningEmulator, type StartEmulatorOptions, startEmulator } from '../../emulator/index.ts';

/** API version the tests speak. */
export const API_VERSION = '62.0';

/** Starts an emulator on a free port. */
export function start(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  return startEmulator({ port: 0, ...options });
}

/** A jsforce connection authenticated with the emulator's token. */
export function connect(emulator: RunningEmulator, version = API_VERSION): jsforce.Connection {
  return new jsforce.Connection({
    instanceUrl: emulator.instanceUrl,
    accessToken: emulator.accessToken,
    version,
  });
}

/** A raw request to the emulator with its token; answers status, headers and text. */
export async function raw(
  emulator: RunningEmulator,
  path: string,
  init: { method?: string; body?: string; headers?: Record<string, string>; token?: string | null } = {},
): Promise<{ status: number; headers: Headers; text: string; json: () => unknown }> {
  const headers: Record<string, string> = { ...init.headers };
  const token = init.token === undefined ? emulator.accessToken : init.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.body !== undefined && headers['content-type'] === undefined)
    headers['content-type'] = 'application/json';
  const response = await fetch(emulator.instanceUrl + path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** Awaits a promise expected to reject and answers the error. */
export async function failure(
  promise: PromiseLike<unknown>,
): Promise<Error & { errorCode?: string; name: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { errorCode?: string };
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Sets the emulator's fault spec (`""` clears it). */
export async function setFaults(emulator: RunningEmulator, spec: string): Promise<void> {
  const answer = await raw(emulator, '/__emulator/faults', {
    method: 'POST',
    token: null,
    body: JSON.stringify({ spec }),
  });
  if (answer.status !== 200) throw new Error(`Setting faults "${spec}" failed: HTTP ${answer.status}`);
}

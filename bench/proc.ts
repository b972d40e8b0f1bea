/** Child processes of the benchmark: the emulator, and measured clients run apart from it. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { StartEmulatorOptions } from '../emulator/index.ts';

/** An emulator running in its own process. */
export interface EmulatorProcess {
  readonly instanceUrl: string;
  readonly accessToken: string;
  readonly orgId: string;
  /** Seconds the emulator took to build its org and start serving. */
  readonly startSeconds: number;
  stop(): Promise<void>;
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Spawns a TypeScript script with the current Node (22 under npm) and tsx's loader. */
export function spawnScript(script: string, args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', here(script), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Starts the emulator in a child process and waits for its ready line. */
export async function startEmulatorProcess(options: StartEmulatorOptions): Promise<EmulatorProcess> {
  const child = spawnScript('./serve.ts', [JSON.stringify({ dailyApiRequests: 50_000_000, ...options })]);
  const ready = await new Promise<Omit<EmulatorProcess, 'stop'>>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const line = out.indexOf('\n');
      if (line >= 0) resolve(JSON.parse(out.slice(0, line)));
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      err += chunk.toString('utf8');
    });
    child.on('exit', (code) =>
      reject(new Error(`The emulator exited (${code}) before it was ready: ${err}`)),
    );
  });
  return {
    ...ready,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** Runs a script to its end and parses the JSON it prints last. */
export async function runScriptJson<T>(script: string, args: readonly string[]): Promise<T> {
  const child = spawnScript(script, args);
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`${script} failed (exit ${code}): ${err.slice(-2000)}`);
  return JSON.parse(last) as T;
}

/** GETs JSON from the emulator's control surface. */
export async function emulatorJson<T>(emu: { instanceUrl: string }, path: string): Promise<T> {
  const response = await fetch(`${emu.instanceUrl}/__emulator/${path}`);
  if (!response.ok) throw new Error(`GET /__emulator/${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** API requests the emulator has counted so far. */
export async function apiCallsUsed(emu: { instanceUrl: string }): Promise<number> {
  const counts = await emulatorJson<{ apiRequests: { used: number } }>(emu, 'counts');
  return counts.apiRequests.used;
}

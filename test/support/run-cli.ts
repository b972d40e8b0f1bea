/** Runs the `sfbackup` command line in-process, as the CLI tests do. */
import { vi } from 'vitest';
import { main } from '../../cli/main.ts';

/** Runs `sfbackup ...args` in-process; answers the exit code and what it printed. */
export async function runCli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    out.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    err.push(String(chunk));
    return true;
  });
  const code = await main(args);
  vi.restoreAllMocks();
  return { code, out: out.join(''), err: err.join('') };
}

/** Runs `run` with standard error taken for a terminal, as a person's shell gives it. */
export async function onTerminal<T>(run: () => Promise<T>): Promise<T> {
  const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
  Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
  try {
    return await run();
  } finally {
    if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
    else delete (process.stderr as { isTTY?: boolean }).isTTY;
  }
}

/** The lines a progress line drew on standard error, in order, without their terminal codes. */
export const progressLines = (err: string): string[] =>
  err
    .split('\r')
    .map((l) => l.replace(/\x1b\[K/g, '').trim())
    .filter((l) => l !== '');

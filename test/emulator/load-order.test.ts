import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Loads one module first, in a fresh Node process with the loader the CLI uses, and returns the
 * names it exports. An import cycle only fails for the module a process happens to load first
 * ("Cannot access ... before initialization"), and vitest's own module runner tolerates cycles,
 * so a child process is the honest place to look.
 */
function loadAlone(file: string): string[] {
  const url = pathToFileURL(join(ROOT, file)).href;
  const script = `const m = await import(${JSON.stringify(url)}); console.log(JSON.stringify(Object.keys(m)));`;
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  expect(result.stderr).toBe('');
  expect(result.status).toBe(0);
  return JSON.parse(result.stdout) as string[];
}

describe('the emulator server modules load whichever of them a process imports first', () => {
  it('loads the composite handler before the route table', () => {
    expect(loadAlone('emulator/server/composite.ts')).toContain('compositeHandler');
  });

  it('loads the route table before the composite handler', () => {
    expect(loadAlone('emulator/server/routes.ts')).toContain('matchRoute');
  });
});

import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain JavaScript module, so that it runs before any TypeScript is loaded
import { nodeVersionProblem } from '../../cli/node-version.mjs';

describe('the Node.js the command line runs on', () => {
  it('refuses an older Node.js than 22, saying which it is and how to run the one the project installs', () => {
    expect(nodeVersionProblem('20.20.2', '/usr/bin/node')).toBe(
      'sfbackup needs Node.js 22 or later; this is Node.js 20.20.2 (/usr/bin/node).\n' +
        'Run it as "npx sfbackup ..." from the project directory (after "npm ci", npx runs the Node.js 22 the project installs), or install Node.js 22 or later.\n',
    );
    expect(nodeVersionProblem('21.7.3', '/opt/node')).toMatch(/^sfbackup needs Node\.js 22 or later/);
  });

  it('runs on Node.js 22 and later', () => {
    expect(nodeVersionProblem('22.0.0', '/x')).toBeUndefined();
    expect(nodeVersionProblem('24.3.1', '/x')).toBeUndefined();
    expect(nodeVersionProblem(process.versions.node, process.execPath)).toBeUndefined();
  });
});

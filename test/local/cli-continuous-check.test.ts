import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ContinuousCheckReport } from '../../cli/commands/continuous.ts';
import { api } from '../../cli/commands/demo-org.ts';
import { localJournal } from '../../cli/local/continuous.ts';
import { synthesizeDefinition } from '../../cli/local/synthesize.ts';
import { type RunningEmulator, startEmulator } from '../../emulator/index.ts';
import type { EventBridgeEvent } from '../../emulator/org/cdc/relay.ts';
import { buildApp } from '../../lib/app.ts';
import type { OrgStack } from '../../lib/stacks/org-stack.ts';
import { appWithoutBundling, configWith } from '../infra/fixtures/app-fixture.ts';
import { runCli as cli } from '../support/run-cli.ts';

let emu: RunningEmulator;
let configFile: string;
let storeDir: string;
const relayed: EventBridgeEvent[] = [];

beforeAll(async () => {
  emu = await startEmulator({});
  emu.relay.subscribe((event) => relayed.push(event));
  const org = {
    name: 'acme-prod',
    type: 'production',
    secretName: 'sfbackup/acme-prod',
    objects: { include: ['Account', 'Contact'] },
    continuous: { partnerEventSource: emu.relay.source },
  };
  const dir = mkdtempSync(join(tmpdir(), 'sfbackup-check-'));
  configFile = join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ orgs: [org], alertEmails: ['ops@example.com'] }));
  storeDir = join(dir, 'vault');
});
afterAll(async () => {
  await emu?.stop();
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `sfbackup continuous check ...` in-process. */
async function check(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return cli('continuous', 'check', ...args);
}

const againstEmulator = (...more: string[]) => [
  '--org',
  'acme-prod',
  '--config',
  configFile,
  '--instance-url',
  emu.instanceUrl,
  '--access-token',
  emu.accessToken,
  '--store',
  storeDir,
  ...more,
];

async function report(...more: string[]): Promise<{ code: number; report: ContinuousCheckReport }> {
  const { code, out } = await check(...againstEmulator('--json', ...more));
  return { code, report: JSON.parse(out) as ContinuousCheckReport };
}

const finding = (r: ContinuousCheckReport, what: string) => r.findings.find((f) => f.what === what);

describe('sfbackup continuous check against the emulator', () => {
  it('passes with the channel objects backed up, the relay running with EARLIEST, and the journal written', async () => {
    const config = configWith({
      orgs: [
        {
          name: 'acme-prod',
          type: 'production',
          secretName: 'sfbackup/acme-prod',
          continuous: { partnerEventSource: emu.relay.source },
        },
      ],
    });
    const { orgStacks } = buildApp(config, appWithoutBundling(), { nag: false });
    const stack = orgStacks[0] as OrgStack;
    const journal = localJournal(synthesizeDefinition(stack, stack.backup.stateMachine), {
      storeDir,
      env: { POWERTOOLS_METRICS_DISABLED: 'true' },
    });
    emu.cdc.select(['Account']);
    emu.relay.configure({ state: 'RUN', replayRecovery: 'EARLIEST' });

    // Nothing relayed yet: the journal is empty and that is no problem.
    const before = await report();
    expect(before.code).toBe(0);
    expect(finding(before.report, 'journal')).toMatchObject({ level: 'info' });

    await api(emu, 'POST', '/sobjects/Account', { Name: 'Journaled' });
    const noJournal = await report();
    expect(noJournal.code).toBe(1);
    expect(finding(noJournal.report, 'journal')).toMatchObject({ level: 'problem' });

    expect(journal.put(relayed)).toBe(1);
    expect((await journal.drain()).delivered).toBe(1);
    const { code, report: passed } = await report();
    expect(passed.problems).toBe(0);
    expect(code).toBe(0);
    expect(passed).toMatchObject({ org: 'acme-prod', target: 'org', partnerEventSource: emu.relay.source });
    expect(finding(passed, 'channel members')).toMatchObject({ level: 'ok' });
    expect(finding(passed, 'journal')).toMatchObject({ level: 'ok' });
    // Contact is backed up but not selected: snapshot-only, which is no problem.
    expect(finding(passed, 'snapshot-only objects')).toMatchObject({ level: 'info' });
    expect(finding(passed, 'snapshot-only objects')!.detail).toContain('Contact');

    const text = await check(...againstEmulator());
    expect(text.code).toBe(0);
    expect(text.out).toContain('Continuous check of org acme-prod, partner event source');
    expect(text.out).toMatch(/ok {6}relay state: Event Relay Emulator_Relay is RUN/);
    expect(text.out).toContain('No problem found.');
  });

  it('fails on LATEST recovery, a stopped relay, and a channel object the backup leaves out', async () => {
    emu.relay.configure({ replayRecovery: 'LATEST' });
    const latest = await report();
    expect(latest.code).toBe(1);
    expect(latest.report.findings.filter((f) => f.level === 'problem').map((f) => f.what)).toEqual([
      'relay recovery',
    ]);

    emu.relay.configure({ replayRecovery: 'EARLIEST', state: 'STOP' });
    const stopped = await report();
    expect(stopped.code).toBe(1);
    expect(finding(stopped.report, 'relay state')).toMatchObject({ level: 'problem' });
    expect(finding(stopped.report, 'relay state')!.detail).toContain('STOP (status STOPPED)');
    const text = await check(...againstEmulator());
    expect(text.out).toContain('PROBLEM relay state');
    expect(text.out).toContain('fix: deploy the relay with <state>RUN</state>');
    expect(text.out).toMatch(/\d+ problems?\.\n$/);

    emu.relay.configure({ state: 'RUN' });
    emu.cdc.select(['Account', 'Case']);
    const unbacked = await report();
    expect(unbacked.code).toBe(1);
    expect(finding(unbacked.report, 'channel members')).toMatchObject({ level: 'problem' });
    expect(finding(unbacked.report, 'channel members')!.detail).toContain('leaves out: Case;');
    emu.cdc.select(['Account']);
  });

  it('runs against the built-in emulator with no org given, and says how to start its relay', async () => {
    const { code, out } = await check('--json');
    expect(code).toBe(1);
    const builtIn = JSON.parse(out) as ContinuousCheckReport;
    expect(builtIn.target).toBe('emulator');
    expect(builtIn.partnerEventSource).toMatch(/^aws\.partner\/salesforce\.com\/00D/);
    expect(finding(builtIn, 'relay state')!.fix).toContain('POST /__emulator/cdc/relay');
    expect(finding(builtIn, 'relay recovery')).toMatchObject({ level: 'problem' });
    expect(finding(builtIn, 'channel members')).toMatchObject({ level: 'problem' });
  });

  it('refuses option mistakes with every problem named and exit code 2', async () => {
    const { code, err } = await check('--org', 'acme-prod', '--partner-event-source', 'nope');
    expect(code).toBe(2);
    expect(err).toContain('--org needs --config FILE');
    expect(err).toContain('--partner-event-source is "nope"');
    const unknown = await cli('continuous', 'status');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown sub-command "status": the only one is "check"');
  });
});

import { describe, expect, it } from 'vitest';
import {
  type CheckFinding,
  type ContinuousCheckInput,
  checkContinuous,
  hasProblem,
} from '../../lambdas/core/continuous/check.ts';
import type { EventRelayReport } from '../../lambdas/core/salesforce.ts';

const SOURCE = 'aws.partner/salesforce.com/00D5g0000012345AAA/0YL5g0000012345AAA';
const NOW = new Date('2026-12-03T12:00:00.000Z');

const relay = (changes: Partial<EventRelayReport> = {}): EventRelayReport => ({
  id: '0YL5g0000012345AAA',
  developerName: 'SfVault',
  state: 'RUN',
  eventChannel: 'SfVault__chn',
  replayRecovery: 'EARLIEST',
  status: 'RUNNING',
  errorCode: null,
  errorMessage: null,
  errorTime: null,
  lastRelayedEventTime: '2026-12-03T11:58:00.000Z',
  remoteResource: SOURCE,
  ...changes,
});

const healthy = (changes: Partial<ContinuousCheckInput> = {}): ContinuousCheckInput => ({
  partnerEventSource: SOURCE,
  relay: relay(),
  channelEntities: ['Account', 'Contact'],
  backedUp: ['Account', 'Contact'],
  newestBatchWrittenAt: '2026-12-03T11:57:30.000Z',
  now: NOW,
  ...changes,
});

const problems = (findings: readonly CheckFinding[]) => findings.filter((f) => f.level === 'problem');
const about = (findings: readonly CheckFinding[], what: string) => findings.filter((f) => f.what === what);

describe('the continuous check', () => {
  it('passes a running EARLIEST relay whose channel objects are backed up and whose journal keeps up', () => {
    const findings = checkContinuous(healthy());
    expect(hasProblem(findings)).toBe(false);
    expect(findings.map((f) => [f.level, f.what])).toEqual([
      ['ok', 'relay state'],
      ['ok', 'relay status'],
      ['ok', 'relay recovery'],
      ['ok', 'partner event source'],
      ['ok', 'channel members'],
      ['ok', 'journal'],
    ]);
  });

  it('refuses an org without a configured source, and a source no relay reports', () => {
    const unconfigured = checkContinuous(healthy({ partnerEventSource: null }));
    expect(unconfigured).toHaveLength(1);
    expect(unconfigured[0]).toMatchObject({ level: 'problem', what: 'configuration' });
    expect(unconfigured[0]!.fix).toMatch(/continuous.*partnerEventSource/);
    const none = checkContinuous(healthy({ relay: null }));
    expect(none).toEqual([expect.objectContaining({ level: 'problem', what: 'relay' })]);
    expect(none[0]!.detail).toContain(SOURCE);
    expect(none[0]!.fix).toContain('SELECT RemoteResource, Status FROM EventRelayFeedback');
  });

  it('reports a relay not RUN, with the hint given for starting it', () => {
    const stopped = checkContinuous(healthy({ relay: relay({ state: 'STOP', status: 'STOPPED' }) }));
    const [state] = about(stopped, 'relay state');
    expect(state).toMatchObject({ level: 'problem' });
    expect(state!.detail).toContain('STOP (status STOPPED)');
    expect(state!.fix).toContain('<state>RUN</state>');
    const hinted = checkContinuous(
      healthy({ relay: relay({ state: 'PAUSE', status: 'PAUSED' }), startRelayHint: 'POST the state' }),
    );
    expect(about(hinted, 'relay state')[0]).toMatchObject({ level: 'problem', fix: 'POST the state' });
  });

  it('reports an ERROR status with its code, message and time, and how long it has lasted', () => {
    const error = {
      status: 'ERROR',
      errorCode: 'sfdc.platform.eventbus.relay.aws.partner.eventsource.connect.error',
      errorMessage: 'could not connect',
    } as const;
    const recent = about(
      checkContinuous(healthy({ relay: relay({ ...error, errorTime: '2026-12-03T10:00:00.000Z' }) })),
      'relay status',
    )[0]!;
    expect(recent.level).toBe('problem');
    expect(recent.detail).toContain(
      'sfdc.platform.eventbus.relay.aws.partner.eventsource.connect.error (could not connect) at 2026-12-03T10:00:00.000Z',
    );
    expect(recent.detail).toContain('lasted 2.0 hours');
    expect(recent.detail).not.toContain('full backup');
    const long = about(
      checkContinuous(healthy({ relay: relay({ ...error, errorTime: '2026-11-30T10:00:00.000Z' }) })),
      'relay status',
    )[0]!;
    expect(long.detail).toContain('longer than the 72 hours');
    expect(long.detail).toContain('a full backup is needed');
  });

  it('notes a past error of a relay that recovered, without failing', () => {
    const findings = checkContinuous(
      healthy({
        relay: relay({ errorCode: 'x.y', errorMessage: null, errorTime: '2026-12-03T09:00:00.000Z' }),
      }),
    );
    expect(hasProblem(findings)).toBe(false);
    expect(about(findings, 'relay status')[0]).toMatchObject({ level: 'info' });
    expect(about(findings, 'relay status')[0]!.detail).toContain(
      'last error was x.y at 2026-12-03T09:00:00.000Z',
    );
  });

  it('refuses LATEST or unset recovery, since an outage then loses its events', () => {
    for (const replayRecovery of ['LATEST', null]) {
      const [finding] = about(
        checkContinuous(healthy({ relay: relay({ replayRecovery }) })),
        'relay recovery',
      );
      expect(finding).toMatchObject({ level: 'problem' });
      expect(finding!.detail).toMatch(/lost/);
      expect(finding!.fix).toContain('{"ReplayRecovery":"EARLIEST"}');
    }
  });

  it('refuses a relay publishing to another source than the configured one', () => {
    const other = 'aws.partner/salesforce.com/00D5g0000012345AAA/0YL000000000009AAA';
    const [finding] = about(
      checkContinuous(healthy({ relay: relay({ remoteResource: other }) })),
      'partner event source',
    );
    expect(finding).toMatchObject({ level: 'problem' });
    expect(finding!.detail).toContain(other);
  });

  it('refuses channel objects the backup leaves out, and lists backed-up objects not on the channel as snapshot-only', () => {
    const findings = checkContinuous(
      healthy({ channelEntities: ['Account', 'Invoice__c'], backedUp: ['account', 'Contact', 'Case'] }),
    );
    expect(problems(findings).map((f) => f.what)).toEqual(['channel members']);
    expect(about(findings, 'channel members')[0]!.detail).toContain('leaves out: Invoice__c;');
    expect(about(findings, 'snapshot-only objects')[0]).toMatchObject({ level: 'info' });
    expect(about(findings, 'snapshot-only objects')[0]!.detail).toContain('Contact, Case');
    const empty = checkContinuous(healthy({ channelEntities: [] }));
    expect(about(empty, 'channel members')[0]).toMatchObject({ level: 'problem' });
    expect(about(empty, 'channel members')[0]!.detail).toContain('no change event members');
  });

  it('refuses a journal more than 6 minutes behind the last relayed event, or none while the relay relayed', () => {
    const within = checkContinuous(healthy({ newestBatchWrittenAt: '2026-12-03T11:52:00.000Z' }));
    expect(about(within, 'journal')[0]).toMatchObject({ level: 'ok' });
    const behind = about(
      checkContinuous(healthy({ newestBatchWrittenAt: '2026-12-03T11:51:59.000Z' })),
      'journal',
    )[0]!;
    expect(behind.level).toBe('problem');
    expect(behind.detail).toContain('6 minutes before the relay last relayed');
    expect(behind.fix).toMatch(/dashboard and alarms/);
    const none = about(checkContinuous(healthy({ newestBatchWrittenAt: null })), 'journal')[0]!;
    expect(none).toMatchObject({ level: 'problem' });
    expect(none.detail).toContain('holds no batch');
    const quiet = about(
      checkContinuous(healthy({ relay: relay({ lastRelayedEventTime: null }), newestBatchWrittenAt: null })),
      'journal',
    )[0]!;
    expect(quiet).toMatchObject({ level: 'info' });
    expect(quiet.detail).toContain('no event relayed yet');
  });
});

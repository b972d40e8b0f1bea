import { describe, expect, it } from 'vitest';
import { DEFAULT_CAMPAIGN, formatReport, runCampaign } from './campaign.ts';
import { INVARIANTS } from './invariants.ts';

describe('a fault-injection campaign over the local backup and restore workflows', () => {
  it('never leaves a complete-but-wrong snapshot, a pointer moved back, duplicated rows or a restore that claims success over a wrong org', async () => {
    const lines: string[] = [];
    const report = await runCampaign({ ...DEFAULT_CAMPAIGN, log: (line) => lines.push(line) });
    process.stdout.write(`${formatReport(report)}`);

    // The campaign did what it says: enough runs, faults from none to many, a kill at every task.
    expect(report.runs.backup).toBeGreaterThanOrEqual(DEFAULT_CAMPAIGN.minBackups);
    expect(report.runs.restore).toBeGreaterThanOrEqual(DEFAULT_CAMPAIGN.minRestores);
    expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(report.kills.stop).toBeGreaterThan(0);
    expect(report.kills.crash).toBeGreaterThan(0);
    expect(report.killedStates.backup).toEqual(
      expect.arrayContaining(['before Plan', 'after Plan', 'before ExportObject', 'after Finish']),
    );
    expect(report.killedStates.restore).toEqual(expect.arrayContaining(['before ValidateInput']));
    expect(report.outcomes.backup.complete).toBeGreaterThan(0);
    expect(report.outcomes.restore.complete).toBeGreaterThan(0);

    const violated = report.violations.map((v) => `${v.invariant} in ${v.run}: ${v.problems.join('; ')}`);
    expect(violated, lines.join('\n')).toEqual([]);
    for (const invariant of INVARIANTS) expect(report.violatedRuns[invariant], invariant).toBe(0);
  }, 900_000);
});

import type { ObjectPointInTime, RestorePlan, UncertainRow } from './plan.ts';

/** A readable summary of a plan for the execution output: counts and field names, never values. */
export function summarizePlan(plan: RestorePlan): string {
  const lines: string[] = [
    plan.pointInTime
      ? `Restore plan ${plan.runId} (${plan.mode}) to ${plan.pointInTime}, from snapshot ${plan.snapshotId} and the change-event journal (each object below says which), into org ${plan.orgId}:`
      : `Restore plan ${plan.runId} (${plan.mode}) from snapshot ${plan.snapshotId} (taken ${plan.snapshotTakenAt}) into org ${plan.orgId}:`,
    `  ${plan.totals.undelete} to undelete (keep their ids), ${plan.totals.insert} to insert (new ids), ${plan.totals.update} to update.`,
    `  Order: ${plan.levels.map((l, i) => `${i + 1}. ${l.join(', ')}`).join('  ')}`,
  ];
  for (const o of plan.objects) {
    lines.push(
      `  ${o.object}: ${o.rowsInScope} in scope; undelete ${o.undelete}, insert ${o.insert}, update ${o.update}`,
    );
    if (o.pointInTime) lines.push(...pointInTimeLines(o.pointInTime, plan.mode === 'dry-run'));
    const changed = Object.entries(o.changedFields);
    if (changed.length > 0)
      lines.push(`    fields to put back: ${changed.map(([f, n]) => `${f} (${n})`).join(', ')}`);
    const remapped = Object.entries(o.remappedReferences);
    if (remapped.length > 0)
      lines.push(`    references remapped to new ids: ${remapped.map(([f, n]) => `${f} (${n})`).join(', ')}`);
    if (o.secondPassFields.length > 0)
      lines.push(`    set in a second pass (cycles): ${o.secondPassFields.join(', ')}`);
    for (const [reason, n] of Object.entries(o.skipped)) lines.push(`    skipped ${n}: ${reason}`);
    const byReason = new Map<string, string[]>();
    for (const u of o.unrestorable) byReason.set(u.reason, [...(byReason.get(u.reason) ?? []), u.field]);
    for (const [reason, fields] of byReason) lines.push(`    cannot restore ${fields.join(', ')}: ${reason}`);
  }
  if (plan.danglingReferences.length > 0) {
    lines.push(
      `  ${plan.danglingReferences.length} referenced row(s) exist neither in the org nor in the restore: those references are left empty.`,
    );
  }
  return lines.join('\n');
}

/** How the object's rows at the instant are known, and the records the journal could not settle. */
function pointInTimeLines(p: ObjectPointInTime, dryRun: boolean): string[] {
  const lines = p.continuous
    ? [
        `    continuous to ${p.instant}: ${p.events} change event(s) replayed over snapshot ${p.snapshotId} (watermark ${p.snapshotWatermark})`,
      ]
    : [
        `    snapshot only: ${p.snapshotId} taken ${p.snapshotWatermark}, ${hoursBetween(p.snapshotWatermark, p.instant)} before ${p.instant}: ${p.snapshotOnlyReason ?? 'the journal was not applied'}`,
      ];
  if (p.uncertain > 0) {
    lines.push(
      `    ${p.uncertain} record(s) uncertain at ${p.instant} (a gap event, or a change the journal could not apply: shown as last known before it; the next backup reads gap-named records again): ${named(p.firstUncertain, p.uncertain)}`,
    );
  }
  if (p.uncertainWritten > 0) {
    lines.push(
      `    ${p.uncertainWritten} uncertain record(s) ${dryRun ? 'a restore would write' : 'written'} with their last known state; check them against the next backup: ${named(p.firstUncertainWritten, p.uncertainWritten)}`,
    );
  }
  return lines;
}

function named(rows: readonly UncertainRow[], total: number): string {
  const ids = rows.map((r) => `${r.id} (since ${r.gapAt})`).join(', ');
  return total > rows.length ? `${ids} and ${total - rows.length} more in the object's plan` : ids;
}

/** Hours from one instant to a later one, to a tenth. */
function hoursBetween(from: string, to: string): string {
  const hours = (Date.parse(to) - Date.parse(from)) / 3_600_000;
  return `${hours.toFixed(1)} hour(s)`;
}

/**
 * After a point-in-time restore that wrote records the journal could not settle: one line naming
 * them (the first few per object), or none.
 */
export function summarizeUncertainWrites(plan: RestorePlan): string {
  const objects = plan.objects.filter((o) => (o.pointInTime?.uncertainWritten ?? 0) > 0);
  if (objects.length === 0) return '';
  const total = objects.reduce((n, o) => n + (o.pointInTime?.uncertainWritten ?? 0), 0);
  const parts = objects.map((o) => {
    const p = o.pointInTime as ObjectPointInTime;
    return `${o.object} ${named(p.firstUncertainWritten, p.uncertainWritten)}`;
  });
  return `Uncertain at ${plan.pointInTime}: ${total} record(s) the journal could not settle were written with their last known state; check them against the next backup, which reads them again: ${parts.join('; ')}`;
}

import type { RestorePlan } from './plan.ts';

/** A readable summary of a plan for the execution output: counts and field names, never values. */
export function summarizePlan(plan: RestorePlan): string {
  const lines: string[] = [
    `Restore plan ${plan.runId} (${plan.mode}) from snapshot ${plan.snapshotId} (taken ${plan.snapshotTakenAt}) into org ${plan.orgId}:`,
    `  ${plan.totals.undelete} to undelete (keep their ids), ${plan.totals.insert} to insert (new ids), ${plan.totals.update} to update.`,
    `  Order: ${plan.levels.map((l, i) => `${i + 1}. ${l.join(', ')}`).join('  ')}`,
  ];
  for (const o of plan.objects) {
    lines.push(
      `  ${o.object}: ${o.rowsInScope} in scope; undelete ${o.undelete}, insert ${o.insert}, update ${o.update}`,
    );
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

/**
 * The known name closest to a misspelt one, for error messages: a case-only difference, a missing
 * custom suffix (`Invoice` for `Invoice__c`), or a few letters added, dropped, changed or swapped.
 * Undefined when nothing is close enough to be a likely intent.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  const limit = Math.min(3, Math.max(1, Math.floor(lower.length / 3)));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const other = candidate.toLowerCase();
    if (other === lower || other === `${lower}__c`) return candidate;
    const distance = editDistance(lower, other, limit);
    if (distance <= limit && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}

/** `name` followed by ` (did you mean X?)` when a known name is close. */
export function withSuggestion(name: string, known: Iterable<string>): string {
  const near = nearestName(name, known);
  return near ? `${name} (did you mean ${near}?)` : name;
}

/** Optimal string alignment distance, giving up (limit + 1) once it passes `limit`. */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, before[j - 2]! + 1);
      }
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** Objects grouped in the order they must be restored, and the references left for a second pass. */
export interface RestoreOrder {
  /** Each level's objects can be restored in parallel once every earlier level is done. */
  readonly levels: readonly (readonly string[])[];
  /** Per object, reference fields that point inside its own cycle (self-references included). */
  readonly deferred: Readonly<Record<string, readonly string[]>>;
}

/** A reference field of an object in scope and the in-scope objects it can point to. */
export interface ReferenceEdge {
  readonly object: string;
  readonly field: string;
  readonly targets: readonly string[];
}

/**
 * Orders objects parents first. Objects that reference each other (a cycle, or a self-reference
 * such as Account.ParentId) share a level; the fields that close the cycle are inserted empty
 * and set in a second pass, once every row of the cycle has its id.
 */
export function restoreOrder(objects: readonly string[], edges: readonly ReferenceEdge[]): RestoreOrder {
  const inScope = new Set(objects);
  const out = new Map<string, Set<string>>(objects.map((o) => [o, new Set<string>()]));
  for (const e of edges) {
    if (!inScope.has(e.object)) continue;
    for (const t of e.targets) if (inScope.has(t)) out.get(e.object)?.add(t);
  }
  const components = stronglyConnected(objects, out);
  const componentOf = new Map<string, number>();
  components.forEach((c, i) => {
    for (const o of c) componentOf.set(o, i);
  });
  // Tarjan yields components children-last reversed: a component comes after every one it reaches.
  const level = new Map<number, number>();
  components.forEach((c, i) => {
    let depth = 0;
    for (const o of c) {
      for (const t of out.get(o) ?? []) {
        const tc = componentOf.get(t);
        if (tc !== undefined && tc !== i) depth = Math.max(depth, (level.get(tc) ?? 0) + 1);
      }
    }
    level.set(i, depth);
  });
  const levels: string[][] = [];
  components.forEach((c, i) => {
    const l = level.get(i) ?? 0;
    while (levels.length <= l) levels.push([]);
    levels[l]?.push(...c);
  });
  for (const l of levels) l.sort();
  const deferred: Record<string, string[]> = {};
  for (const e of edges) {
    const own = componentOf.get(e.object);
    if (own === undefined) continue;
    if (e.targets.some((t) => componentOf.get(t) === own)) {
      const list = deferred[e.object] ?? [];
      if (!list.includes(e.field)) list.push(e.field);
      deferred[e.object] = list;
    }
  }
  return { levels: levels.filter((l) => l.length > 0), deferred };
}

/** Tarjan's algorithm; components come out in reverse topological order (targets first). */
function stronglyConnected(nodes: readonly string[], out: Map<string, Set<string>>): string[][] {
  let index = 0;
  const indices = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const result: string[][] = [];
  const visit = (v: string): void => {
    indices.set(v, index);
    low.set(v, index);
    index += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of out.get(v) ?? []) {
      if (!indices.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, indices.get(w) ?? 0));
      }
    }
    if (low.get(v) === indices.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      result.push(component);
    }
  };
  for (const n of nodes) if (!indices.has(n)) visit(n);
  return result;
}

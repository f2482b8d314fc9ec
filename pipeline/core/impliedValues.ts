/** One additive relation between non-negative counts: total = Σ parts (no total: the parts sum to 0). */
export interface SumRelation<K> {
  readonly total?: K;
  readonly parts: readonly K[];
}

/**
 * Which cells' values follow from cells already known, through additive
 * relations between non-negative counts (a margin, a row relation, an
 * equality): a relation all of whose cells but one are known fixes that one,
 * and a total known to be 0 fixes every part at 0 (counts are never
 * negative). Repeated until nothing more follows. A value implied this way is
 * no secret to hide: release publishes such a cell rather than refuse to
 * protect it, and the audit does not call it a disclosure. Generic over the
 * cell's key, so both read the same rule in their own model of the tables.
 */
export function impliedCells<K>(
  relations: readonly SumRelation<K>[],
  known: ReadonlySet<K>,
  zeros: ReadonlySet<K>,
): Set<K> {
  const cellsOf = (r: SumRelation<K>) => (r.total === undefined ? r.parts : [r.total, ...r.parts]);
  const implied = new Set<K>();
  const zero = new Set<K>(zeros);
  const isKnown = (c: K) => known.has(c) || implied.has(c);
  const byCell = new Map<K, number[]>();
  relations.forEach((relation, r) => {
    for (const c of cellsOf(relation)) {
      const list = byCell.get(c);
      if (list === undefined) byCell.set(c, [r]);
      else list.push(r);
    }
  });
  const queue = relations.map((_, r) => r);
  const learn = (cell: K, isZero: boolean): void => {
    if (!isKnown(cell)) implied.add(cell);
    else if (!isZero || zero.has(cell)) return;
    if (isZero) zero.add(cell);
    for (const r of byCell.get(cell) ?? []) queue.push(r);
  };
  while (queue.length > 0) {
    const relation = relations[queue.pop()!]!;
    const cells = cellsOf(relation);
    if (relation.total === undefined || zero.has(relation.total)) {
      for (const part of relation.parts) if (!zero.has(part)) learn(part, true);
      continue;
    }
    const open = cells.filter((c) => !isKnown(c));
    if (open.length === 1) {
      const others = cells.filter((c) => c !== open[0]);
      learn(
        open[0]!,
        others.every((c) => zero.has(c)),
      );
    } else if (open.length === 0 && relation.parts.every((c) => zero.has(c))) learn(relation.total, true);
  }
  return implied;
}

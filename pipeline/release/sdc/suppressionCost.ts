/**
 * What suppressing a cell costs the researcher: the weight per unit of
 * movement in the protection LP (secondary.ts), where a pattern moves each
 * of its cells by about the protection width, so only ratios matter.
 *
 * - Every suppressed value is one value the researcher cannot read, whatever
 *   its size: the base cost is 1 per cell, as tau-ARGUS' hypercube counts
 *   suppressions first.
 * - Among cells of one kind, the smaller hides fewer persons: a value adds
 *   its share of the problem's typical cell (VALUE_WEIGHT × value / typical),
 *   the order GaussSuppression's candidates follow ((freq + 1) × weight). On
 *   the 6,545-cell benchmark table a weight of 0 (cost = count of cells)
 *   suppressed 1,437 cells and 16,412 persons, 0.3 gave 1,314 and 11,547, 1
 *   gave 1,320 and 11,607, 3 gave 1,327 and 11,645 (before the cleanup).
 * - A margin is what a table is read by (the Total row of a year, a
 *   municipality's total): each dimension in which the cell is a Total
 *   multiplies its cost by MARGIN_FACTOR, as tau-ARGUS gives margins a large
 *   constant, so a margin goes only where no pattern of inner cells exists.
 *   Where one must go (a small count in a Total row, whose relation partner
 *   in that row is a margin too; a year whose total is tiny, whose partner
 *   is another year's total), no factor avoids it.
 *
 * Known zeros are not priced here: they may not be suppressed at all
 * (SuppressionProblem.fixed), since a known zero hides nothing.
 */
export const VALUE_WEIGHT = 0.3;
export const MARGIN_FACTOR = 30;

/**
 * Cost per cell from its value and its margin level (in how many dimensions
 * it is a Total; for a cell in several tables, the most). The typical value
 * is the median of the positive inner values, so a tiny table and a national
 * one weigh size against count alike.
 */
export function suppressionCost(value: Float64Array, marginLevel: Uint8Array): Float64Array {
  const inner: number[] = [];
  for (let c = 0; c < value.length; c++) if (marginLevel[c] === 0 && value[c]! > 0) inner.push(value[c]!);
  inner.sort((a, b) => a - b);
  const typical = inner.length === 0 ? 1 : Math.max(1, inner[Math.floor(inner.length / 2)]!);
  const cost = new Float64Array(value.length);
  for (let c = 0; c < value.length; c++) {
    cost[c] = (1 + (VALUE_WEIGHT * Math.abs(value[c]!)) / typical) * MARGIN_FACTOR ** marginLevel[c]!;
  }
  return cost;
}

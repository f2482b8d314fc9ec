import type { DisclosureRules } from './disclosureRules.js';
import { finding, type Finding } from './finding.js';
import type { ReleasedRow, ReleasedTable } from './releasedTables.js';

/**
 * The primary disclosure rules (docs/design.md, "Disclosure control") recomputed
 * from the released values: published counts from 1 to threshold − 1, rates
 * whose numerator, denominator or complement is under the threshold, and —
 * where the metrics output's internal columns are in the workspace — counts
 * based on too few persons and means failing the (n,k) dominance or p% rule.
 * Findings say which cell and which rule, never the small value itself.
 */

/** Internal values of the metrics table behind a released table, by the cell's dimension values. */
export type CellInternals = ReadonlyMap<string, Readonly<Record<string, number | null>>>;

export function dimsKey(dims: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.entries(dims).sort(([a], [b]) => a.localeCompare(b)));
}

export function primaryRuleFindings(
  table: ReleasedTable,
  rules: DisclosureRules,
  internals: CellInternals | undefined,
): Finding[] {
  const found: Finding[] = [];
  const published = (row: ReleasedRow, column: string) =>
    row.statuses[column] === 'published' && row.values[column] !== null;
  const cellFinding = (rule: string, column: string, row: ReleasedRow, message: string) =>
    found.push(finding('release', rule, table.file, message, { column, cell: { ...row.dims } }));
  const describedMeasure = (column: string) => table.description?.measures?.find((m) => m.column === column);

  for (const measure of table.measures) {
    const description = describedMeasure(measure.column);
    for (const row of table.rows) {
      if (!published(row, measure.column)) continue;
      const value = row.values[measure.column] ?? 0;
      const cellInternals = internals?.get(dimsKey(row.dims));
      if (measure.additive) {
        if ((value > 0 || rules.zerosAreSensitive) && value < rules.minFrequency) {
          cellFinding(
            'release.primary-frequency',
            measure.column,
            row,
            `A published count is below the frequency threshold (${rules.minFrequency}); it should have been suppressed.`,
          );
        } else {
          const persons = cellInternals?.persons;
          // A count of zero reveals nothing under the frequency rule unless zeros are sensitive.
          if (
            persons !== undefined &&
            persons !== null &&
            persons < rules.minFrequency &&
            (value > 0 || rules.zerosAreSensitive) &&
            persons > 0
          ) {
            cellFinding(
              'release.primary-frequency',
              measure.column,
              row,
              `A published count is based on fewer than ${rules.minFrequency} persons (the metrics output's person count); it should have been suppressed.`,
            );
          }
        }
        const denominatorColumn = description?.rate?.denominator;
        if (denominatorColumn !== undefined && published(row, denominatorColumn)) {
          const denominator = row.values[denominatorColumn] ?? 0;
          if (denominator > 0) {
            if (denominator < rules.rateDenominator)
              cellFinding(
                'release.rate-denominator',
                measure.column,
                row,
                `A published rate (${measure.column} of ${denominatorColumn}) has a denominator below ${rules.rateDenominator}.`,
              );
            if (value < rules.rateNumerator)
              cellFinding(
                'release.rate-numerator',
                measure.column,
                row,
                `A published rate (${measure.column} of ${denominatorColumn}) has a numerator below ${rules.rateNumerator}: it reveals (nearly) no one in the group has the property.`,
              );
            if (denominator - value < rules.rateComplement)
              cellFinding(
                'release.rate-complement',
                measure.column,
                row,
                `A published rate (${measure.column} of ${denominatorColumn}) has a complement below ${rules.rateComplement}: it reveals (nearly) everyone in the group has the property.`,
              );
          }
        }
      } else if (description?.kind === 'mean' && cellInternals !== undefined) {
        const get = (name: string | undefined) => (name === undefined ? undefined : (cellInternals[name] ?? undefined));
        const contributors = get(description.contributors);
        const sum = get(description.sum);
        const top1 = get(description.top1);
        const top2 = get(description.top2) ?? 0;
        if (contributors !== undefined && contributors < rules.minContributors) {
          cellFinding(
            'release.primary-frequency',
            measure.column,
            row,
            `A published mean is based on fewer than ${rules.minContributors} contributors.`,
          );
        }
        if (sum !== undefined && top1 !== undefined && sum > 0) {
          const largest = rules.dominanceN >= 2 ? top1 + top2 : top1;
          if (rules.dominanceN <= 2 && largest >= rules.dominanceK * sum) {
            cellFinding(
              'release.dominance',
              measure.column,
              row,
              `A published mean fails the (n,k) = (${rules.dominanceN}, ${Math.round(rules.dominanceK * 100)}%) dominance rule: its largest contributors hold too much of the total.`,
            );
          }
          if (sum - top1 - top2 < rules.pPercent * top1) {
            cellFinding(
              'release.p-percent',
              measure.column,
              row,
              `A published mean fails the p% rule (p = ${Math.round(rules.pPercent * 100)}%): the second-largest contributor could estimate the largest too closely.`,
            );
          }
        }
      }
    }
  }
  return found;
}

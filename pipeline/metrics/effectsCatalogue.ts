import type { MetricDefinitions } from '../../schemas/definitions.js';
import type { EffectsTableSpec } from '../../schemas/tables.js';

/** The `tables.json` entry of effects.parquet (docs/contracts.md, "metrics → release"). */
export function effectsCatalogueEntry(d: MetricDefinitions): EffectsTableSpec {
  const younger = `${d.youthBoundaryAge - d.discontinuityYears}-${d.youthBoundaryAge - 1}`;
  const older = `${d.youthBoundaryAge}-${d.youthBoundaryAge + d.discontinuityYears - 1}`;
  const group = (name: 'treatment' | 'control') => ({
    name,
    label: `group_${name}`,
    n: `n_${name}`,
    x: `x_${name}`,
    share: `share_${name}`,
    censored: `censored_${name}`,
    persons: `persons_${name}`,
  });
  return {
    name: 'effects',
    kind: 'effects',
    file: 'effects.parquet',
    title: 'Effects on outflow: programme arms and the youth-desk boundary',
    description:
      `Difference in the share of people whose benefit spell ends within ${d.endsWithinMonths} months (outcome ended_within_${d.endsWithinMonths}m), and ends in durable outflow to work (durable_outflow), ` +
      `between the treatment and control arm of each programme, per assignment year (cohort) and pooled (Total): the spell is the one covering the assignment day. ` +
      `Design age_discontinuity compares spells started at ages ${younger} with ${older} (the youth-desk boundary at ${d.youthBoundaryAge}), counted from the spell start. ` +
      'n excludes units whose horizon runs past the observation end (censored, counted apart); the 95% interval is the normal approximation for a difference of two proportions.',
    dimensions: ['design', 'comparison', 'cohort', 'outcome'],
    groups: [group('treatment'), group('control')],
    estimates: ['difference', 'standard_error', 'ci_low', 'ci_high'],
    internal: ['persons_treatment', 'persons_control'],
  };
}

import { describe, expect, it } from 'vitest';
import type { LoadedEffects } from '../pipeline/release/loadMetrics.js';
import { releaseEffects, type ReleasedEffects } from '../pipeline/release/releaseEffects.js';
import type { DisclosureLogEntry } from '../pipeline/release/disclosureLog.js';
import type { CellStatus, ReleasedTable } from '../pipeline/release/releasedTable.js';
import { testRules } from './support/releaseFixtures.js';

const rules = testRules();

type Cohort = { cohort: string; n: [number, number]; x: [number, number]; censored: [number, number] };

/** One age-discontinuity comparison over cohorts, with the pooled `Total` cohort summed by hand. */
function effects(cohorts: Cohort[]): LoadedEffects {
  const total = cohorts.reduce<Cohort>(
    (t, c) => ({
      cohort: 'Total',
      n: [t.n[0] + c.n[0], t.n[1] + c.n[1]],
      x: [t.x[0] + c.x[0], t.x[1] + c.x[1]],
      censored: [t.censored[0] + c.censored[0], t.censored[1] + c.censored[1]],
    }),
    { cohort: 'Total', n: [0, 0], x: [0, 0], censored: [0, 0] },
  );
  const rows = [...cohorts, total].map((c) => {
    const shareT = c.x[0] / c.n[0];
    const shareC = c.x[1] / c.n[1];
    return {
      design: 'age_discontinuity',
      comparison: 'youth_desk_27',
      cohort: c.cohort,
      outcome: 'durable_outflow',
      group_treatment: '25-26',
      group_control: '27-28',
      n_treatment: c.n[0],
      x_treatment: c.x[0],
      share_treatment: shareT,
      censored_treatment: c.censored[0],
      persons_treatment: c.n[0] + c.censored[0],
      n_control: c.n[1],
      x_control: c.x[1],
      share_control: shareC,
      censored_control: c.censored[1],
      persons_control: c.n[1] + c.censored[1],
      difference: shareT - shareC,
      standard_error: 0.05,
      ci_low: shareT - shareC - 0.1,
      ci_high: shareT - shareC + 0.1,
    };
  });
  const group = (name: string) => ({
    name,
    label: `group_${name}`,
    n: `n_${name}`,
    x: `x_${name}`,
    share: `share_${name}`,
    censored: `censored_${name}`,
    persons: `persons_${name}`,
  });
  return {
    file: 'effects.parquet',
    rows,
    spec: {
      name: 'effects',
      kind: 'effects',
      file: 'effects.parquet',
      title: 'Effects',
      description: 'd',
      dimensions: ['design', 'comparison', 'cohort', 'outcome'],
      groups: [group('treatment'), group('control')],
      estimates: ['difference', 'standard_error', 'ci_low', 'ci_high'],
      internal: ['persons_treatment', 'persons_control'],
    },
  };
}

const column = (released: ReleasedEffects, name: string) => released.columns.find((c) => c.name === name)!;
const cohortAt = (released: ReleasedEffects, cohort: string) => released.labels.findIndex((l) => l[2] === cohort);

/**
 * The attacker's interval for a suppressed cohort of a one-dimensional table
 * with its Total: when the Total is published, the suppressed cohorts share
 * Total − Σ published, so each lies in [0, that]; a suppressed Total leaves
 * them unbounded above.
 */
function attackerWidth(released: ReleasedEffects, name: string, truth: (i: number) => number): number {
  const c = column(released, name);
  const total = cohortAt(released, 'Total');
  if (c.status[total] === 'suppressed') return Number.POSITIVE_INFINITY;
  let rest = c.values[total]!;
  c.status.forEach((s, i) => {
    if (i !== total && s === 'published') rest -= c.values[i]!;
  });
  // The suppressed cohorts' true values add up to what is left.
  const hidden = c.status.flatMap((s, i) => (i !== total && s === 'suppressed' ? [truth(i)] : []));
  expect(hidden.reduce((a, b) => a + b, 0)).toBe(rest);
  return rest;
}

describe('effects: counts add up over cohorts to the pooled Total', () => {
  // The audit's finding on the small demo: cohorts publish 0 except 2024 (18/16) and the Total (22/20), so a
  // suppressed 2023 of 4/4 was the Total minus the rest.
  const cohorts: Cohort[] = [
    { cohort: '2021', n: [40, 42], x: [15, 16], censored: [0, 0] },
    { cohort: '2022', n: [45, 41], x: [16, 15], censored: [0, 0] },
    { cohort: '2023', n: [50, 48], x: [20, 19], censored: [4, 4] },
    { cohort: '2024', n: [30, 35], x: [12, 13], censored: [18, 16] },
  ];

  it('suppresses more cohorts so that a small censored count cannot be recomputed from the Total', async () => {
    const input = effects(cohorts);
    const log: DisclosureLogEntry[] = [];
    const { effects: released, attack } = await releaseEffects(input, [], rules, log);
    const at2023 = cohortAt(released, '2023');
    for (const name of ['censored_treatment', 'censored_control']) {
      expect(column(released, name).status[at2023]).toBe('suppressed');
      // Without secondary suppression only 2023 would be hidden; with it at least one more cohort or the Total is.
      expect(column(released, name).status.filter((s) => s === 'suppressed').length).toBeGreaterThanOrEqual(2);
      const width = attackerWidth(released, name, (i) => Number(input.rows[i]![name]));
      expect(width).toBeGreaterThanOrEqual(10);
      expect(log.some((e) => e.column === name && e.suppression === 'secondary')).toBe(true);
    }
    // Only censored counts were small: the shares and the estimate of 2023 stay published.
    expect(column(released, 'difference').status[at2023]).toBe('published');
    expect(column(released, 'n_treatment').status.every((s) => s === 'published')).toBe(true);
    expect(attack.narrowedBelowProtection).toBe(0);
    expect(attack.exactlyRecoverable).toBe(0);
  });

  it("a group's small n and x get secondary suppression over the cohorts; the other group stays published, and a share or estimate computed from a hidden count is hidden", async () => {
    const small = cohorts.map((c) =>
      c.cohort === '2022' ? { ...c, n: [6, 41] as [number, number], x: [2, 15] as [number, number] } : c,
    );
    const input = effects(small);
    const log: DisclosureLogEntry[] = [];
    const { effects: released } = await releaseEffects(input, [], rules, log);
    const at2022 = cohortAt(released, '2022');
    for (const name of ['n_treatment', 'x_treatment']) {
      expect(column(released, name).status[at2022]).toBe('suppressed');
      expect(attackerWidth(released, name, (i) => Number(input.rows[i]![name]))).toBeGreaterThanOrEqual(10);
    }
    // The control arm of 2022 (41 units, 15 with the outcome) breaks no rule: hiding it would protect nothing.
    for (const name of ['n_control', 'x_control', 'share_control'])
      expect(column(released, name).status[at2022]).toBe('published');
    // Every value computed from a hidden count is hidden: a group's share by its n and x, the estimates by both groups'.
    const hidden = (name: string, i: number) => column(released, name).status[i] === 'suppressed';
    released.labels.forEach((_, i) => {
      const treatmentHidden = hidden('n_treatment', i) || hidden('x_treatment', i);
      const controlHidden = hidden('n_control', i) || hidden('x_control', i);
      expect(hidden('share_treatment', i)).toBe(treatmentHidden);
      expect(hidden('share_control', i)).toBe(controlHidden);
      for (const name of ['difference', 'standard_error', 'ci_low', 'ci_high']) {
        expect(hidden(name, i)).toBe(treatmentHidden || controlHidden);
        if (treatmentHidden || controlHidden) expect(column(released, name).values[i]).toBeNull();
      }
    });
    // 6 units is a count of units below the threshold: the frequency rule, as for any table's count.
    expect(log.find((e) => e.column === 'n_treatment' && e.cell.includes('cohort=2022'))!.rule).toBe('frequency');
  });

  it('a comparison without a pooled Total row is primary suppression alone', async () => {
    const input = effects(cohorts);
    const withoutTotal: LoadedEffects = { ...input, rows: input.rows.filter((r) => r.cohort !== 'Total') };
    const { effects: released, lpSolves } = await releaseEffects(withoutTotal, [], rules, []);
    expect(lpSolves).toBe(0);
    expect(column(released, 'censored_control').status.filter((s) => s === 'suppressed')).toHaveLength(1);
  });

  it('a programme count takes the status of the assignments cell holding the same number', async () => {
    const input = effects(cohorts);
    const rows: Record<string, string | number | null>[] = input.rows.map((r) => ({
      ...r,
      design: 'programme',
      comparison: 'werkloont',
      group_treatment: 'treatment',
      group_control: 'control',
    }));
    // Released assignments: durable_known of the treatment arm hidden in 2021 and 2023 (its own pattern), all else published.
    const dimensionValues: string[][] = [];
    const known: (number | null)[] = [];
    const knownStatus: CellStatus[] = [];
    for (const r of rows) {
      for (const arm of ['treatment', 'control']) {
        dimensionValues.push(['werkloont', String(r.cohort), arm]);
        const hidden = arm === 'treatment' && (r.cohort === '2021' || r.cohort === '2023');
        known.push(hidden ? null : Number(r[arm === 'treatment' ? 'n_treatment' : 'n_control']));
        knownStatus.push(hidden ? 'suppressed' : 'published');
      }
    }
    const published = (values: (number | null)[]) => ({ values, status: values.map((): CellStatus => 'published') });
    const assignments = {
      spec: { name: 'assignments_by_programme_cohort_arm' },
      dimensionValues,
      columns: [
        { name: 'durable_known', kind: 'count', description: '', values: known, status: knownStatus },
        ...['ended_known', 'ended_within_12m', 'ended_censored'].map((name) => ({
          name,
          kind: 'count',
          description: '',
          ...published(dimensionValues.map(() => 0)),
        })),
        {
          name: 'durable_outflow',
          kind: 'count',
          description: '',
          ...published(rows.flatMap((r) => [Number(r.x_treatment), Number(r.x_control)])),
        },
        {
          name: 'durable_censored',
          kind: 'count',
          description: '',
          ...published(rows.flatMap((r) => [Number(r.censored_treatment), Number(r.censored_control)])),
        },
      ],
    } as unknown as ReleasedTable;
    const log: DisclosureLogEntry[] = [];
    const { effects: released } = await releaseEffects({ ...input, rows }, [assignments], rules, log);
    expect(column(released, 'n_treatment').status).toEqual(
      rows.map((r) => (r.cohort === '2021' || r.cohort === '2023' ? 'suppressed' : 'published')),
    );
    // The censored counts are published there too (the small 2023 count is the assignments table's business).
    expect(column(released, 'censored_treatment').status.every((st) => st === 'published')).toBe(true);
    // x agrees with the published assignments cells, so it is published; the rows with a hidden n publish no share.
    expect(column(released, 'x_treatment').status.every((st) => st === 'published')).toBe(true);
    expect(column(released, 'difference').status[cohortAt(released, '2021')]).toBe('suppressed');
    expect(column(released, 'difference').status[cohortAt(released, '2022')]).toBe('published');
  });
});

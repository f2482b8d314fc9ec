import { adultGroupLabel, youthGroupLabel, type MetricDefinitions } from '../../schemas/definitions.js';
import type {
  AggregateTableSpec,
  CountMeasure,
  MeasureRelation,
  MeasureSpec,
  StructuralValue,
} from '../../schemas/tables.js';
import { sqlIdent, sqlString } from '../core/duckdb.js';
import { firstYearUnknown, lastYearBefore, lastYearKnown } from './structuralYears.js';

/**
 * The aggregate tables `metrics` hands to `release` (docs/contracts.md,
 * "metrics → release"): which units each counts, by which dimensions, and
 * what every measure means. `tables.json` is written from this catalogue, so
 * the release stage and the researcher read the same descriptions the SQL
 * was written against.
 */

export type PopulationName = 'outflows' | 'inflows' | 'assignments';

export interface Population {
  readonly name: PopulationName;
  /** The DuckDB table of units (units.sql). */
  readonly unitsTable: string;
  /** The SQL file beside this module that aggregates one table of this population. */
  readonly sqlFile: string;
  /** The dimension that dates a unit's event (outflow, start, assignment): what censoring measures are fixed by. */
  readonly yearDimension: string;
  /** Why the population holds the units it holds, where that is a choice. */
  readonly why?: string;
  readonly measures: readonly MeasureSpec[];
  /**
   * Counts of one row that add up exactly (total = Σ parts, for every cell).
   * Release must treat them as additive like a margin: otherwise a suppressed
   * part is recomputed from its published total and the other parts.
   */
  readonly relations: readonly MeasureRelation[];
  readonly internal: readonly string[];
}

export interface AggregateTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly population: PopulationName;
  readonly dimensions: readonly string[];
  readonly hierarchies: readonly (readonly [string, string])[];
}

/** A count of units: the frequency rule. */
const units = (column: string, description: string, why: string, structural?: StructuralValue[]): CountMeasure => ({
  column,
  kind: 'count',
  description,
  nature: 'units',
  why,
  ...(structural === undefined || structural.length === 0 ? {} : { structural }),
});

/** Units with a property of the person, as a share of `denominator`: the rate rules. */
const attribute = (
  column: string,
  description: string,
  denominator: string,
  why: string,
  structural?: StructuralValue[],
): CountMeasure => ({
  column,
  kind: 'count',
  description,
  nature: 'attribute',
  why,
  rate: { denominator },
  ...(structural === undefined || structural.length === 0 ? {} : { structural }),
});

/** Units sorted by when their event happened relative to T: the frequency rule, no rate rules. */
const timing = (column: string, description: string, why: string, structural: StructuralValue[]): CountMeasure => ({
  column,
  kind: 'count',
  description,
  nature: 'timing',
  why,
  structural,
});

const PROPERTY = 'a property of the person; 0% or 100% would reveal it for the whole group';

/**
 * The populations and their measures. `observationEnd` (T) fixes, per year of
 * the population's year dimension, which censoring measures every unit of
 * that year shares: those years are declared `structural`, so that release
 * publishes what anyone can work out from T and the year. `jobsFrom`, the
 * first job start in the linked job data, fixes likewise that an outflow
 * whose work window closes before it has no job to count: those years'
 * job measures are 0 for everyone.
 */
export function populations(
  d: MetricDefinitions,
  observationEnd: string,
  jobsFrom?: string,
): Record<PopulationName, Population> {
  const h = d.durabilityHorizonMonths;
  const w = d.endsWithinMonths;
  const T = observationEnd;
  // Outflow E in year Y: the horizon E + h months is known for every outflow of Y through this year, for none from the next.
  const horizonKnownThrough = lastYearKnown(T, { months: h });
  const horizonUnknownFrom = firstYearUnknown(T, { months: h });
  // A first job starts at most workWindowDays.after after E; its 12 months are known once start + months <= T.
  const firstJobKnownThrough = lastYearKnown(T, { months: d.jobLastedMonths, days: d.workWindowDays.after });
  // A spell started (or an assignment made) on day S in Y: whether it ended within w months is known for all of Y through this year.
  const endingKnownThrough = lastYearKnown(T, { months: w });
  const endingUnknownFrom = firstYearUnknown(T, { months: w });
  // Durable outflow within w months of S needs the ending (by S + w) and then its horizon (+ h).
  const durableKnownThrough = lastYearKnown(T, { months: w + h });
  // An outflow in year Y has its work window close at most workWindowDays.after after 31 December of Y.
  const withoutJobData = jobsFrom === undefined ? undefined : lastYearBefore(jobsFrom, d.workWindowDays.after);
  const noJobs = (): StructuralValue[] =>
    withoutJobData === undefined
      ? []
      : [
          {
            dimension: 'outflow_year',
            through: withoutJobData,
            equals: 0,
            why: `the linked job data start on ${jobsFrom}: no job can start within ${d.workWindowDays.after} days of an outflow of these years`,
          },
        ];
  const range = (
    dimension: string,
    bound: { from: number } | { through: number },
    equals: 0 | string,
    why: string,
  ): StructuralValue => ({ dimension, ...bound, equals, why });
  return {
    outflows: {
      name: 'outflows',
      unitsTable: 'outflowUnits',
      sqlFile: 'outflowTable.sql',
      yearDimension: 'outflow_year',
      measures: [
        units(
          'spells',
          'Benefit spells that ended on or before the observation end (outflows).',
          'The outflows a cell holds.',
        ),
        attribute(
          'to_work',
          `Outflows to work: a job started within ${d.workWindowDays.before} days before to ${d.workWindowDays.after} days after the spell end.`,
          'spells',
          `Whether the person left the benefit for work: ${PROPERTY}.`,
          noJobs(),
        ),
        timing(
          'censored',
          `Outflows whose ${h}-month horizon runs past the observation end: no revolving-door or durability verdict yet, left out of those rates.`,
          `Says when the outflow happened (within ${h} months before the published observation end), not what the person did.`,
          [
            range(
              'outflow_year',
              { through: horizonKnownThrough },
              0,
              `every outflow of these years has its ${h}-month horizon by ${T}`,
            ),
            range(
              'outflow_year',
              { from: horizonUnknownFrom },
              'spells',
              `no outflow of these years has its ${h}-month horizon by ${T}`,
            ),
          ],
        ),
        timing(
          'uncensored',
          `Outflows whose ${h}-month horizon falls within the observation period: the denominator of the revolving-door and durable-outflow rates.`,
          `Says when the outflow happened (at least ${h} months before the published observation end), not what the person did.`,
          [
            range(
              'outflow_year',
              { through: horizonKnownThrough },
              'spells',
              `every outflow of these years has its ${h}-month horizon by ${T}`,
            ),
            range(
              'outflow_year',
              { from: horizonUnknownFrom },
              0,
              `no outflow of these years has its ${h}-month horizon by ${T}`,
            ),
          ],
        ),
        attribute(
          'revolving',
          `Uncensored outflows followed by a new benefit spell within ${h} months (revolving door).`,
          'uncensored',
          `Whether the person came back on benefit: ${PROPERTY}.`,
          [range('outflow_year', { from: horizonUnknownFrom }, 0, `no outflow of these years has a verdict by ${T}`)],
        ),
        attribute(
          'durable',
          `Uncensored outflows to work without a revolving door and with a job on the day ${h} months after the spell end (durable outflow).`,
          'uncensored',
          `Whether the person's outflow to work lasted: ${PROPERTY}.`,
          [
            range('outflow_year', { from: horizonUnknownFrom }, 0, `no outflow of these years has a verdict by ${T}`),
            ...noJobs(),
          ],
        ),
        attribute(
          'first_part_time',
          `Outflows to work whose first job has fewer than ${d.partTimeHoursBelow} hours a week.`,
          'to_work',
          `The hours of the person's job: ${PROPERTY}.`,
          noJobs(),
        ),
        attribute(
          'first_small_job',
          `Outflows to work whose first job has fewer than ${d.smallJobHoursBelow} hours a week.`,
          'to_work',
          `The hours of the person's job: ${PROPERTY}.`,
          noJobs(),
        ),
        attribute(
          'first_wage_below',
          'Outflows to work whose first job pays below the hourly statutory minimum wage of its start year.',
          'to_work',
          `The person's wage: ${PROPERTY}.`,
          noJobs(),
        ),
        attribute(
          'first_wage_near',
          `Outflows to work whose first job pays from the minimum wage up to ${d.wageBandNearFactor} times it.`,
          'to_work',
          `The person's wage: ${PROPERTY}.`,
          noJobs(),
        ),
        attribute(
          'first_wage_above',
          `Outflows to work whose first job pays more than ${d.wageBandNearFactor} times the minimum wage.`,
          'to_work',
          `The person's wage: ${PROPERTY}.`,
          noJobs(),
        ),
        units(
          'first_wage_unknown',
          'Outflows to work whose first job has no hourly wage recorded.',
          "A gap in the holder's job record, not a property of the person: a count like any other.",
          noJobs(),
        ),
        timing(
          'first_lasted_known',
          `Outflows to work whose first job has ended, or has run ${d.jobLastedMonths} months by the observation end.`,
          `Says whether the job's ${d.jobLastedMonths}-month verdict is known by the observation end. The property it shares with first_lasted_censored (the job still runs) is protected through that measure, since to_work = first_lasted_known + first_lasted_censored.`,
          [
            range(
              'outflow_year',
              { through: firstJobKnownThrough },
              'to_work',
              `every first job after an outflow of these years has run ${d.jobLastedMonths} months or ended by ${T}`,
            ),
            ...noJobs(),
          ],
        ),
        attribute(
          'first_lasted_12m',
          `Outflows to work whose first job lasted at least ${d.jobLastedMonths} months.`,
          'first_lasted_known',
          `Whether the person kept the job: ${PROPERTY}.`,
          noJobs(),
        ),
        attribute(
          'first_lasted_censored',
          `Outflows to work whose first job is still running and started less than ${d.jobLastedMonths} months before the observation end.`,
          'to_work',
          `Mixes timing (a recent start) with a property of the person (still in that job), so the rate rules apply; in years where no first job can have started that recently it is 0 for everyone.`,
          [
            range(
              'outflow_year',
              { through: firstJobKnownThrough },
              0,
              `every first job after an outflow of these years started ${d.jobLastedMonths} months or more before ${T}`,
            ),
          ],
        ),
        {
          column: 'mean_hourly_wage',
          kind: 'mean',
          description: 'Mean hourly wage (EUR) of the first job after outflow.',
          why: 'A magnitude: the minimum-contributors, dominance and p% rules.',
          contributors: 'wage_n',
          sum: 'wage_sum',
          top1: 'wage_top1',
          top2: 'wage_top2',
        },
        {
          column: 'mean_hours',
          kind: 'mean',
          description: 'Mean hours per week of the first job after outflow.',
          why: 'A magnitude: the minimum-contributors, dominance and p% rules.',
          contributors: 'hours_n',
          sum: 'hours_sum',
          top1: 'hours_top1',
          top2: 'hours_top2',
        },
      ],
      relations: [
        { total: 'spells', parts: ['censored', 'uncensored'] },
        { total: 'to_work', parts: ['first_lasted_known', 'first_lasted_censored'] },
        { total: 'to_work', parts: ['first_wage_below', 'first_wage_near', 'first_wage_above', 'first_wage_unknown'] },
      ],
      internal: [
        'persons',
        'wage_n',
        'wage_sum',
        'wage_top1',
        'wage_top2',
        'hours_n',
        'hours_sum',
        'hours_top1',
        'hours_top2',
      ],
    },
    inflows: {
      name: 'inflows',
      unitsTable: 'inflowUnits',
      sqlFile: 'inflowTable.sql',
      yearDimension: 'inflow_year',
      measures: [
        units('spells', 'Benefit spells by the year they started (inflow).', 'The spells a cell holds.'),
        timing(
          'known_12m',
          `Spells started at least ${w} months before the observation end, or ended earlier: whether they ended within ${w} months is known.`,
          `Says whether the ${w}-month verdict is known by the observation end. The property it shares with censored_12m (the spell still runs) is protected through that measure, since spells = known_12m + censored_12m.`,
          [
            range(
              'inflow_year',
              { through: endingKnownThrough },
              'spells',
              `every spell started in these years is ${w} months old by ${T}`,
            ),
          ],
        ),
        attribute(
          'ended_within_12m',
          `Spells that ended within ${w} months of their start.`,
          'known_12m',
          `Whether the person left the benefit within ${w} months: ${PROPERTY}.`,
          [
            range(
              'inflow_year',
              { from: endingUnknownFrom },
              'known_12m',
              `a spell started in these years is known only once it has ended, which is within ${w} months of its start`,
            ),
          ],
        ),
        attribute(
          'censored_12m',
          `Spells still running that started less than ${w} months before the observation end.`,
          'spells',
          `Mixes timing (a recent start) with a property of the person (still on benefit), so the rate rules apply; in years whose every spell is ${w} months old by the observation end it is 0 for everyone.`,
          [
            range(
              'inflow_year',
              { through: endingKnownThrough },
              0,
              `every spell started in these years is ${w} months old by ${T}`,
            ),
          ],
        ),
      ],
      relations: [{ total: 'spells', parts: ['known_12m', 'censored_12m'] }],
      internal: ['persons'],
    },
    assignments: {
      name: 'assignments',
      unitsTable: 'assignmentUnits',
      sqlFile: 'assignmentTable.sql',
      yearDimension: 'cohort',
      why: "The trial's population: first assignments to a programme's treatment or control arm made while the person was on benefit. The effect is measured on the spell covering the assignment day, so an assignment without one is outside the trial; its count is not published, because beside the on-benefit count it would give the few off-benefit assignments by subtraction.",
      measures: [
        units(
          'on_benefit',
          "Persons' first assignment to the programme's treatment or control arm, made while the person was on benefit (a spell covers the assignment day).",
          "The trial's arm size: the units the effect is measured on.",
        ),
        timing(
          'ended_known',
          `Assignments whose spell ended within ${w} months, or for which ${w} months have passed by the observation end.`,
          `Says whether the ${w}-month verdict is known by the observation end. The property it shares with ended_censored (the spell still runs) is protected through that measure, since on_benefit = ended_known + ended_censored.`,
          [
            range(
              'cohort',
              { through: endingKnownThrough },
              'on_benefit',
              `every assignment of these years is ${w} months old by ${T}`,
            ),
          ],
        ),
        attribute(
          'ended_within_12m',
          `Assignments whose covering spell ended within ${w} months of the assignment.`,
          'ended_known',
          `Whether the person left the benefit within ${w} months: ${PROPERTY}.`,
          [
            range(
              'cohort',
              { from: endingUnknownFrom },
              'ended_known',
              `an assignment of these years is known only once its spell has ended, which is within ${w} months of it`,
            ),
          ],
        ),
        attribute(
          'ended_censored',
          `Assignments less than ${w} months before the observation end, with the spell still running.`,
          'on_benefit',
          `Mixes timing (a recent assignment) with a property of the person (still on benefit), so the rate rules apply; in years whose every assignment is ${w} months old by the observation end it is 0 for everyone.`,
          [
            range(
              'cohort',
              { through: endingKnownThrough },
              0,
              `every assignment of these years is ${w} months old by ${T}`,
            ),
          ],
        ),
        timing(
          'durable_known',
          `Assignments for which durable outflow within ${w} months is known.`,
          `Says whether the verdict is known by the observation end. The property it shares with durable_censored is protected through that measure, since on_benefit = durable_known + durable_censored.`,
          [
            range(
              'cohort',
              { through: durableKnownThrough },
              'on_benefit',
              `every assignment of these years has had ${w} months to end and ${h} more to last by ${T}`,
            ),
          ],
        ),
        attribute(
          'durable_outflow',
          `Assignments whose covering spell ended within ${w} months in a durable outflow to work.`,
          'durable_known',
          `Whether the person left the benefit for lasting work: ${PROPERTY}.`,
        ),
        attribute(
          'durable_censored',
          'Assignments whose durable outflow is not yet known at the observation end.',
          'on_benefit',
          `Mixes timing with a property of the person (still on benefit, or left too recently for a verdict), so the rate rules apply; in years whose every assignment has had ${w} + ${h} months by the observation end it is 0 for everyone.`,
          [
            range(
              'cohort',
              { through: durableKnownThrough },
              0,
              `every assignment of these years has had ${w} months to end and ${h} more to last by ${T}`,
            ),
          ],
        ),
      ],
      relations: [
        { total: 'on_benefit', parts: ['ended_known', 'ended_censored'] },
        { total: 'on_benefit', parts: ['durable_known', 'durable_censored'] },
      ],
      internal: ['persons'],
    },
  };
}

const YEAR = 'year' as const;
const OBSERVED = 'observed' as const;
type Domain = typeof YEAR | typeof OBSERVED | readonly string[];

/** Which values a dimension runs over (docs/contracts.md: coded dimensions list every code). */
export function dimensionDomains(d: MetricDefinitions): Record<string, Domain> {
  return {
    outflow_year: YEAR,
    inflow_year: YEAR,
    cohort: YEAR,
    municipality: OBSERVED,
    district: OBSERVED,
    programme: OBSERVED,
    age_group: [youthGroupLabel(d), adultGroupLabel(d)],
    age_band: d.ageBands.map((b) => b.label),
    sex: ['M', 'F'],
    household_type: ['single', 'single_parent', 'couple', 'couple_with_children', 'other'],
    duration: d.durationBands.map((b) => b.label),
    benefit_type: ['bijstand', 'ioaw', 'ioaz', 'bbz'],
    ladder_step: ['1', '2', '3', '4', '5', '6'],
    arm: ['treatment', 'control', 'none'],
  };
}

export const AGGREGATE_TABLES: readonly AggregateTable[] = [
  {
    name: 'outflow_by_year_municipality',
    title: 'Outflow, outflow to work and durable outflow by year and municipality',
    description:
      'Benefit spells that ended, by the year they ended and the municipality of their longest benefit period.',
    population: 'outflows',
    dimensions: ['outflow_year', 'municipality'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_municipality_district',
    title: 'Outflow by municipality and district',
    description:
      'Outflows over all years by municipality and district (wijk) as the municipality records it for the person.',
    population: 'outflows',
    dimensions: ['municipality', 'district'],
    hierarchies: [['municipality', 'district']],
  },
  {
    name: 'outflow_by_year_age',
    title: 'Outflow by year and age',
    description:
      'Outflows by year and age on the day the spell ended: the youth-desk groups and the 10-year bands nested in them.',
    population: 'outflows',
    dimensions: ['outflow_year', 'age_group', 'age_band'],
    hierarchies: [['age_group', 'age_band']],
  },
  {
    name: 'outflow_by_year_household_type',
    title: 'Outflow by year and household type',
    description: 'Outflows by year and household type as the municipality records it.',
    population: 'outflows',
    dimensions: ['outflow_year', 'household_type'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_year_sex',
    title: 'Outflow by year and sex',
    description: 'Outflows by year and sex.',
    population: 'outflows',
    dimensions: ['outflow_year', 'sex'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_year_duration',
    title: 'Outflow by year and spell duration',
    description: 'Outflows by year and the whole months the spell lasted before outflow.',
    population: 'outflows',
    dimensions: ['outflow_year', 'duration'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_year_benefit_type',
    title: 'Outflow by year and benefit type',
    description: 'Outflows by year and the benefit type of the longest period in the spell.',
    population: 'outflows',
    dimensions: ['outflow_year', 'benefit_type'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_year_ladder_step',
    title: 'Outflow by year and participation-ladder step',
    description:
      'Outflows by year and the participation-ladder step last recorded by an intervention that started within the spell.',
    population: 'outflows',
    dimensions: ['outflow_year', 'ladder_step'],
    hierarchies: [],
  },
  {
    name: 'outflow_by_year_arm',
    title: 'Outflow by year and programme arm',
    description:
      "Outflows by year and the arm of the last programme assignment within the spell ('none': no treatment or control assignment).",
    population: 'outflows',
    dimensions: ['outflow_year', 'arm'],
    hierarchies: [],
  },
  {
    name: 'inflow_by_year_municipality',
    title: 'Inflow by year and municipality',
    description:
      'Benefit spells by the year they started and municipality, and how many ended within the months after.',
    population: 'inflows',
    dimensions: ['inflow_year', 'municipality'],
    hierarchies: [],
  },
  {
    name: 'inflow_by_year_age',
    title: 'Inflow by year and age',
    description: 'Benefit spells by the year they started and age at the start.',
    population: 'inflows',
    dimensions: ['inflow_year', 'age_group', 'age_band'],
    hierarchies: [['age_group', 'age_band']],
  },
  {
    name: 'assignments_by_programme_cohort_arm',
    title: 'Programme assignments by programme, assignment year and arm',
    description:
      'First assignments to a programme arm, and whether the benefit spell covering the assignment day ended (durably) within the months after.',
    population: 'assignments',
    dimensions: ['programme', 'cohort', 'arm'],
    hierarchies: [],
  },
];

/** Dimension groups: a hierarchy travels as one group (its child only below its own parent). */
type DimensionGroup =
  | { readonly kind: 'single'; readonly name: string }
  | { readonly kind: 'hierarchy'; readonly parent: string; readonly child: string };

function dimensionGroups(table: AggregateTable): DimensionGroup[] {
  const groups: DimensionGroup[] = [];
  for (const name of table.dimensions) {
    const asParent = table.hierarchies.find(([p]) => p === name);
    if (asParent !== undefined) groups.push({ kind: 'hierarchy', parent: asParent[0], child: asParent[1] });
    else if (!table.hierarchies.some(([, c]) => c === name)) groups.push({ kind: 'single', name });
  }
  return groups;
}

/** GROUPING SETS: every dimension in or out; a hierarchy as none, parent, or parent and child. */
export function groupingSets(table: AggregateTable): string {
  let sets: string[][] = [[]];
  for (const group of dimensionGroups(table)) {
    const options = group.kind === 'single' ? [[], [group.name]] : [[], [group.parent], [group.parent, group.child]];
    sets = sets.flatMap((set) => options.map((option) => [...set, ...option]));
  }
  return sets.map((set) => `(${set.map((n) => `u.${sqlIdent(n)}`).join(', ')})`).join(', ');
}

export function cellDimensions(table: AggregateTable): string {
  return table.dimensions
    .map((n) => `CASE WHEN grouping(u.${sqlIdent(n)}) = 1 THEN 'Total' ELSE u.${sqlIdent(n)} END AS ${sqlIdent(n)}`)
    .join(', ');
}

function valueList(values: readonly string[]): string {
  return `[${values.map(sqlString).join(', ')}]::VARCHAR[]`;
}

function singleDomain(name: string, domain: Domain, units: string): string {
  const column = sqlIdent(name);
  const parts = [`SELECT ${column} AS value FROM ${units}`, `SELECT 'Total'`];
  if (domain === YEAR) {
    // Years run without gaps, so a year with no units is a row of zeros rather than missing.
    parts.push(
      `SELECT CAST(y AS VARCHAR) FROM range((SELECT coalesce(min(TRY_CAST(${column} AS INTEGER)), 0) FROM ${units}), (SELECT coalesce(max(TRY_CAST(${column} AS INTEGER)) + 1, 0) FROM ${units})) AS years(y)`,
    );
  } else if (domain !== OBSERVED) {
    parts.push(`SELECT unnest(${valueList(domain)})`);
  }
  return `SELECT DISTINCT value AS ${column} FROM (${parts.join(' UNION ALL ')})`;
}

function hierarchyDomain(
  parent: string,
  child: string,
  domains: Record<string, Domain>,
  d: MetricDefinitions,
  units: string,
): string {
  const p = sqlIdent(parent);
  const c = sqlIdent(child);
  const parts = [
    `SELECT ${p} AS parent_value, ${c} AS child_value FROM ${units}`,
    `SELECT ${p}, 'Total' FROM ${units}`,
    `SELECT 'Total', 'Total'`,
  ];
  if (parent === 'age_group' && child === 'age_band') {
    const pairs = d.ageBands.map(
      (b) => [b.from < d.youthBoundaryAge ? youthGroupLabel(d) : adultGroupLabel(d), b.label] as const,
    );
    const groups = [youthGroupLabel(d), adultGroupLabel(d)].map((g) => [g, 'Total'] as const);
    parts.push(
      `SELECT * FROM (VALUES ${[...pairs, ...groups].map(([g, b]) => `(${sqlString(g)}, ${sqlString(b)})`).join(', ')})`,
    );
  } else if (domains[child] !== OBSERVED || domains[parent] !== OBSERVED) {
    throw new Error(`hierarchy ${parent} > ${child} needs its declared pairs`);
  }
  return `SELECT DISTINCT parent_value AS ${p}, child_value AS ${c} FROM (${parts.join(' UNION ALL ')})`;
}

/** Every combination of every dimension's values and 'Total' (a hierarchy's child only below its parent). */
export function everyCombination(table: AggregateTable, d: MetricDefinitions, units: string): string {
  const domains = dimensionDomains(d);
  const relations = dimensionGroups(table).map((group, i) => {
    if (group.kind === 'single') {
      const domain = domains[group.name];
      if (domain === undefined) throw new Error(`dimension ${group.name} has no domain`);
      return `(${singleDomain(group.name, domain, units)}) AS g${i}`;
    }
    return `(${hierarchyDomain(group.parent, group.child, domains, d, units)}) AS g${i}`;
  });
  return `SELECT ${table.dimensions.map(sqlIdent).join(', ')} FROM ${relations.join(' CROSS JOIN ')}`;
}

/** Dimensions in order, each with Total last and coded values in their declared order. */
export function orderBy(table: AggregateTable, d: MetricDefinitions): string {
  const domains = dimensionDomains(d);
  return table.dimensions
    .flatMap((name) => {
      const column = `e.${sqlIdent(name)}`;
      const domain = domains[name];
      const keys = [`${column} = 'Total'`];
      if (Array.isArray(domain)) keys.push(`list_position(${valueList(domain)}, ${column}) NULLS LAST`);
      keys.push(column);
      return keys;
    })
    .join(', ');
}

/** The `tables.json` entry of an aggregate table (docs/contracts.md). */
export function catalogueEntry(table: AggregateTable, population: Population): AggregateTableSpec {
  const dimensions = new Set(table.dimensions);
  return {
    name: table.name,
    title: table.title,
    description: table.description,
    dimensions: [...table.dimensions],
    hierarchies: table.hierarchies.map((h) => [...h]),
    population: table.population,
    ...(population.why === undefined ? {} : { populationWhy: population.why }),
    // A structural range speaks of a dimension: a table without it (all years pooled) has none of its rows fixed.
    measures: population.measures.map((m) => {
      if (m.kind !== 'count' || m.structural === undefined) return { ...m };
      const { structural, ...rest } = m;
      const here = structural.filter((s) => dimensions.has(s.dimension));
      return here.length === 0 ? rest : { ...rest, structural: here };
    }),
    relations: population.relations.map((r) => ({ total: r.total, parts: [...r.parts] })),
    internal: [...population.internal],
  };
}

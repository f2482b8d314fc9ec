import { adultGroupLabel, youthGroupLabel, type MetricDefinitions } from '../../schemas/definitions.js';
import { sqlIdent, sqlString } from '../core/duckdb.js';

/**
 * The aggregate tables `metrics` hands to `release` (docs/contracts.md,
 * "metrics → release"): which units each counts, by which dimensions, and
 * what every measure means. `tables.json` is written from this catalogue, so
 * the release stage and the researcher read the same descriptions the SQL
 * was written against.
 */

export type PopulationName = 'outflows' | 'inflows' | 'assignments';

export type Measure =
  | {
      readonly column: string;
      readonly kind: 'count';
      readonly description: string;
      readonly rate?: { readonly denominator: string };
    }
  | {
      readonly column: string;
      readonly kind: 'mean';
      readonly description: string;
      readonly contributors: string;
      readonly sum: string;
      readonly top1: string;
      readonly top2: string;
    };

export interface Population {
  readonly name: PopulationName;
  /** The DuckDB table of units (units.sql). */
  readonly unitsTable: string;
  /** The SQL file beside this module that aggregates one table of this population. */
  readonly sqlFile: string;
  readonly measures: readonly Measure[];
  /**
   * Counts of one row that add up exactly (total = Σ parts, for every cell).
   * Release must treat them as additive like a margin: otherwise a suppressed
   * part is recomputed from its published total and the other parts.
   */
  readonly relations: readonly MeasureRelation[];
  readonly internal: readonly string[];
}

export interface MeasureRelation {
  readonly total: string;
  readonly parts: readonly string[];
}

export interface AggregateTable {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly population: PopulationName;
  readonly dimensions: readonly string[];
  readonly hierarchies: readonly (readonly [string, string])[];
}

const count = (column: string, description: string, denominator?: string): Measure =>
  denominator === undefined
    ? { column, kind: 'count', description }
    : { column, kind: 'count', description, rate: { denominator } };

export function populations(d: MetricDefinitions): Record<PopulationName, Population> {
  const h = d.durabilityHorizonMonths;
  const w = d.endsWithinMonths;
  return {
    outflows: {
      name: 'outflows',
      unitsTable: 'outflowUnits',
      sqlFile: 'outflowTable.sql',
      measures: [
        count('spells', 'Benefit spells that ended on or before the observation end (outflows).'),
        count(
          'to_work',
          `Outflows to work: a job started within ${d.workWindowDays.before} days before to ${d.workWindowDays.after} days after the spell end.`,
          'spells',
        ),
        count(
          'censored',
          `Outflows whose ${h}-month horizon runs past the observation end: no revolving-door or durability verdict yet, left out of those rates.`,
          'spells',
        ),
        count(
          'uncensored',
          `Outflows whose ${h}-month horizon falls within the observation period: the denominator of the revolving-door and durable-outflow rates.`,
        ),
        count(
          'revolving',
          `Uncensored outflows followed by a new benefit spell within ${h} months (revolving door).`,
          'uncensored',
        ),
        count(
          'durable',
          `Uncensored outflows to work without a revolving door and with a job on the day ${h} months after the spell end (durable outflow).`,
          'uncensored',
        ),
        count(
          'first_part_time',
          `Outflows to work whose first job has fewer than ${d.partTimeHoursBelow} hours a week.`,
          'to_work',
        ),
        count(
          'first_small_job',
          `Outflows to work whose first job has fewer than ${d.smallJobHoursBelow} hours a week.`,
          'to_work',
        ),
        count(
          'first_wage_below',
          'Outflows to work whose first job pays below the hourly statutory minimum wage of its start year.',
          'to_work',
        ),
        count(
          'first_wage_near',
          `Outflows to work whose first job pays from the minimum wage up to ${d.wageBandNearFactor} times it.`,
          'to_work',
        ),
        count(
          'first_wage_above',
          `Outflows to work whose first job pays more than ${d.wageBandNearFactor} times the minimum wage.`,
          'to_work',
        ),
        count('first_wage_unknown', 'Outflows to work whose first job has no hourly wage recorded.'),
        count(
          'first_lasted_known',
          `Outflows to work whose first job has ended, or has run ${d.jobLastedMonths} months by the observation end.`,
        ),
        count(
          'first_lasted_12m',
          `Outflows to work whose first job lasted at least ${d.jobLastedMonths} months.`,
          'first_lasted_known',
        ),
        count(
          'first_lasted_censored',
          `Outflows to work whose first job is still running and started less than ${d.jobLastedMonths} months before the observation end.`,
        ),
        {
          column: 'mean_hourly_wage',
          kind: 'mean',
          description: 'Mean hourly wage (EUR) of the first job after outflow.',
          contributors: 'wage_n',
          sum: 'wage_sum',
          top1: 'wage_top1',
          top2: 'wage_top2',
        },
        {
          column: 'mean_hours',
          kind: 'mean',
          description: 'Mean hours per week of the first job after outflow.',
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
      measures: [
        count('spells', 'Benefit spells by the year they started (inflow).'),
        count(
          'known_12m',
          `Spells started at least ${w} months before the observation end, or ended earlier: whether they ended within ${w} months is known.`,
        ),
        count('ended_within_12m', `Spells that ended within ${w} months of their start.`, 'known_12m'),
        count('censored_12m', `Spells still running that started less than ${w} months before the observation end.`),
      ],
      relations: [{ total: 'spells', parts: ['known_12m', 'censored_12m'] }],
      internal: ['persons'],
    },
    assignments: {
      name: 'assignments',
      unitsTable: 'assignmentUnits',
      sqlFile: 'assignmentTable.sql',
      measures: [
        count('assigned', "Persons' first assignment to the programme's treatment or control arm."),
        count(
          'on_benefit',
          'Assignments made while the person was on benefit (a spell covers the assignment day).',
          'assigned',
        ),
        count(
          'ended_known',
          `Assignments on benefit whose spell ended within ${w} months, or for which ${w} months have passed by the observation end.`,
        ),
        count(
          'ended_within_12m',
          `Assignments on benefit whose covering spell ended within ${w} months of the assignment.`,
          'ended_known',
        ),
        count(
          'ended_censored',
          `Assignments on benefit less than ${w} months before the observation end, with the spell still running.`,
        ),
        count('durable_known', 'Assignments on benefit for which durable outflow within the months is known.'),
        count(
          'durable_outflow',
          `Assignments on benefit whose covering spell ended within ${w} months in a durable outflow to work.`,
          'durable_known',
        ),
        count(
          'durable_censored',
          'Assignments on benefit whose durable outflow is not yet known at the observation end.',
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
export function catalogueEntry(table: AggregateTable, population: Population): Record<string, unknown> {
  return {
    name: table.name,
    title: table.title,
    description: table.description,
    dimensions: [...table.dimensions],
    hierarchies: table.hierarchies.map((h) => [...h]),
    population: table.population,
    measures: population.measures.map((m) => ({ ...m })),
    relations: population.relations.map((r) => ({ total: r.total, parts: [...r.parts] })),
    internal: [...population.internal],
  };
}

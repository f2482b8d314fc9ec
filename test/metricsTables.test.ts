import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Duck, sqlIdent, sqlString } from '../pipeline/core/duckdb.js';
import { runMetrics } from '../pipeline/metrics/runMetrics.js';
import type { Manifest } from '../schemas/manifest.js';
import {
  writeLinkOutput,
  type BenefitRow,
  type ClientRow,
  type InterventionRow,
  type JobRow,
  type PersonRow,
} from './metricsLinkFixture.js';

/**
 * The aggregate tables as docs/contracts.md promises them to `release`:
 * described by tables.json, every combination present, 'Total' margins that
 * add up along every dimension (hierarchies within their parent), counts
 * BIGINT, rates never above their denominators.
 */

interface Catalogue {
  format: string;
  tables: {
    name: string;
    kind?: string;
    dimensions: string[];
    hierarchies?: [string, string][];
    population?: string;
    measures?: {
      column: string;
      kind: 'count' | 'mean';
      rate?: { denominator: string };
      contributors?: string;
      sum?: string;
      top1?: string;
      top2?: string;
      description: string;
    }[];
    internal: string[];
  }[];
}

/** A small town, the same every run: a linear congruential generator, not Math.random. */
function town(): {
  clients: ClientRow[];
  persons: PersonRow[];
  benefits: BenefitRow[];
  jobs: JobRow[];
  interventions: InterventionRow[];
} {
  let state = 42;
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % n;
  };
  const pick = <T>(xs: readonly T[]): T => xs[next(xs.length)] as T;
  const day = (d: number) => new Date(Date.UTC(2017, 0, 1) + d * 86_400_000).toISOString().slice(0, 10);
  const out = {
    clients: [] as ClientRow[],
    persons: [] as PersonRow[],
    benefits: [] as BenefitRow[],
    jobs: [] as JobRow[],
    interventions: [] as InterventionRow[],
  };
  const districts: Record<string, string[]> = {
    rotterdam: ['Centrum', 'Noord', 'Charlois'],
    utrecht: ['Centrum', 'Overvecht'],
  };
  for (let i = 0; i < 120; i++) {
    const person = `town${i}`;
    const municipality = pick(['rotterdam', 'utrecht']);
    out.clients.push({
      person,
      municipality,
      district: i % 17 === 0 ? null : pick(districts[municipality] ?? []),
      household_type: pick(['single', 'single_parent', 'couple']),
      sex: pick(['M', 'F']),
    });
    out.persons.push({
      person,
      birth_month: `${1955 + next(48)}-${String(1 + next(12)).padStart(2, '0')}-01`,
      sex: pick(['M', 'F']),
    });
    let cursor = next(1500);
    for (let k = 0; k < 1 + next(3); k++) {
      const start = cursor + next(90);
      const end = next(10) === 0 ? null : start + 20 + next(700);
      out.benefits.push({
        person,
        municipality,
        benefit_type: pick(['bijstand', 'bijstand', 'ioaw']),
        start: day(start),
        end: end === null ? null : day(end),
      });
      if (end === null) break;
      if (next(3) > 0)
        out.jobs.push({
          person,
          start: day(end - 20 + next(50)),
          end: next(2) === 0 ? null : day(end + next(600)),
          employer: `E${next(5)}`,
          hours: pick([8, 20, 32, 38]),
          wage: pick([9.9, 11, 14, 20]),
        });
      if (next(4) === 0)
        out.interventions.push({
          person,
          municipality,
          programme: pick(['werkloont', 'jobcoach']),
          arm: pick(['treatment', 'control']),
          start: day(start + 10),
          ladder_step: 1 + next(6),
        });
      cursor = end + next(400);
    }
  }
  return out;
}

let root: string;
let out: string;
let manifest: Manifest;
let catalogue: Catalogue;
let duck: Duck;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-tables-'));
  await writeLinkOutput(join(root, 'linked'), { ...town() });
  out = join(root, 'metrics');
  manifest = await runMetrics({ input: join(root, 'linked'), out });
  catalogue = JSON.parse(await readFile(join(out, 'tables.json'), 'utf8')) as Catalogue;
  duck = await Duck.open({ threads: 1 });
}, 60_000);

afterAll(async () => {
  duck.close();
  await rm(root, { recursive: true, force: true });
});

const aggregateTables = () => catalogue.tables.filter((t) => t.kind === undefined);
const source = (name: string) => `read_parquet(${sqlString(join(out, 'tables', `${name}.parquet`))})`;

describe('tables.json and the table files', () => {
  it('lists every table with its columns: dimensions, measures and internal helpers, nothing else', async () => {
    expect(catalogue.format).toBe('boldlink-tables/v2');
    expect(aggregateTables().length).toBe(12);
    for (const table of aggregateTables()) {
      const columns = await duck.jsonRows<{ column_name: string; column_type: string }>(
        `DESCRIBE SELECT * FROM ${source(table.name)}`,
      );
      const types = Object.fromEntries(columns.map((c) => [c.column_name, c.column_type]));
      expect(Object.keys(types).sort(), table.name).toEqual(
        [...table.dimensions, ...(table.measures ?? []).map((m) => m.column), ...table.internal].sort(),
      );
      for (const d of table.dimensions) expect(types[d], `${table.name}.${d}`).toBe('VARCHAR');
      for (const m of table.measures ?? [])
        expect(types[m.column], `${table.name}.${m.column}`).toBe(m.kind === 'count' ? 'BIGINT' : 'DOUBLE');
      for (const m of table.measures ?? [])
        expect(m.description.length, `${table.name}.${m.column} description`).toBeGreaterThan(10);
    }
  }, 60_000);

  it('holds every combination of values and Total once, children only below their own parent', async () => {
    for (const table of aggregateTables()) {
      const hierarchies = table.hierarchies ?? [];
      const children = new Set(hierarchies.map(([, c]) => c));
      let expected = 1;
      for (const d of table.dimensions.filter((x) => !children.has(x))) {
        const child = hierarchies.find(([p]) => p === d)?.[1];
        const group = child === undefined ? sqlIdent(d) : `${sqlIdent(d)}, ${sqlIdent(child)}`;
        expected *= Number(
          await duck.scalar(`SELECT count(*) FROM (SELECT DISTINCT ${group} FROM ${source(table.name)})`),
        );
      }
      const rows = Number(await duck.scalar(`SELECT count(*) FROM ${source(table.name)}`));
      const distinct = Number(
        await duck.scalar(
          `SELECT count(*) FROM (SELECT DISTINCT ${table.dimensions.map(sqlIdent).join(', ')} FROM ${source(table.name)})`,
        ),
      );
      expect(rows, table.name).toBe(expected);
      expect(distinct, table.name).toBe(rows);
      for (const [parent, child] of hierarchies) {
        const orphans = Number(
          await duck.scalar(
            `SELECT count(*) FROM ${source(table.name)} WHERE ${sqlIdent(parent)} = 'Total' AND ${sqlIdent(child)} <> 'Total'`,
          ),
        );
        expect(orphans, `${table.name}: ${child} without its ${parent}`).toBe(0);
      }
    }
  }, 60_000);

  it('adds up: the values of each dimension sum to its Total for every combination of the others', async () => {
    for (const table of aggregateTables()) {
      const counts = [
        ...(table.measures ?? []).filter((m) => m.kind === 'count').map((m) => m.column),
        'persons',
      ].filter((c) => c !== 'persons');
      const hierarchies = table.hierarchies ?? [];
      for (const d of table.dimensions) {
        const asChild = hierarchies.find(([, c]) => c === d);
        const asParent = hierarchies.find(([p]) => p === d);
        const others = table.dimensions.filter((x) => x !== d);
        // A parent is summed over its children's Total rows; a child within its (non-Total) parent.
        const scope =
          asParent !== undefined
            ? `${sqlIdent(asParent[1])} = 'Total'`
            : asChild !== undefined
              ? `${sqlIdent(asChild[0])} <> 'Total'`
              : 'true';
        const key = others.map((o) => `t.${sqlIdent(o)} = v.${sqlIdent(o)}`).join(' AND ') || 'true';
        for (const c of counts) {
          const mismatches = Number(
            await duck.scalar(`
              WITH t AS (SELECT * FROM ${source(table.name)} WHERE ${sqlIdent(d)} = 'Total' AND ${scope}),
                   v AS (SELECT ${others.map(sqlIdent).join(', ') || "'x' AS one"}, sum(${sqlIdent(c)}) AS s FROM ${source(table.name)} WHERE ${sqlIdent(d)} <> 'Total' AND ${scope} GROUP BY ALL)
              SELECT count(*) FROM t LEFT JOIN v ON ${key} WHERE coalesce(v.s, 0) <> t.${sqlIdent(c)}`),
          );
          expect(mismatches, `${table.name}: ${c} over ${d}`).toBe(0);
        }
      }
    }
  }, 60_000);

  it('never has a rate numerator above its denominator, and means within their contributions', async () => {
    for (const table of aggregateTables()) {
      for (const m of table.measures ?? []) {
        if (m.kind === 'count' && m.rate !== undefined) {
          const bad = Number(
            await duck.scalar(
              `SELECT count(*) FROM ${source(table.name)} WHERE ${sqlIdent(m.column)} > ${sqlIdent(m.rate.denominator)}`,
            ),
          );
          expect(bad, `${table.name}: ${m.column} / ${m.rate.denominator}`).toBe(0);
        }
        if (m.kind === 'mean') {
          const bad = Number(
            await duck.scalar(
              `SELECT count(*) FROM ${source(table.name)} WHERE (${sqlIdent(m.contributors!)} = 0) <> (${sqlIdent(m.column)} IS NULL) OR ${sqlIdent(m.top1!)} < ${sqlIdent(m.top2!)} OR ${sqlIdent(m.column)} > ${sqlIdent(m.top1!)} + 1e-9`,
            ),
          );
          expect(bad, `${table.name}: ${m.column}`).toBe(0);
        }
      }
    }
  }, 60_000);

  it('counts the same outflows in every outflow table and matches the manifest summary', async () => {
    const totals = manifest.summary.totals as Record<string, number>;
    for (const table of aggregateTables().filter((t) => t.population === 'outflows')) {
      const where = table.dimensions.map((d) => `${sqlIdent(d)} = 'Total'`).join(' AND ');
      const [row] = await duck.jsonRows<{ spells: number; durable: number; censored: number }>(
        `SELECT spells::INTEGER AS spells, durable::INTEGER AS durable, censored::INTEGER AS censored FROM ${source(table.name)} WHERE ${where}`,
      );
      expect(row, table.name).toEqual({
        spells: totals.outflows,
        durable: totals.durable,
        censored: totals.censored,
      });
    }
    expect(totals.outflows).toBeGreaterThan(50);
    expect(totals.censored).toBeGreaterThan(0);
  }, 60_000);

  it('takes T as the latest date in the linked benefit and job data when none is given', async () => {
    expect(manifest.parameters.observationEndSource).toBe('latest date in the linked data');
    const latest = await duck.scalar<{ toString(): string }>(`
      SELECT max(d) FROM (
        SELECT max(greatest(start_date, coalesce(end_date, start_date))) AS d FROM read_parquet(${sqlString(join(root, 'linked', 'benefits.parquet'))})
        UNION ALL SELECT max(greatest(start_date, coalesce(end_date, start_date))) FROM read_parquet(${sqlString(join(root, 'linked', 'jobs.parquet'))}))`);
    expect(manifest.parameters.observationEnd).toBe(latest.toString());
  }, 60_000);

  it('describes effects.parquet in tables.json with its groups and estimates', async () => {
    const effects = catalogue.tables.find((t) => t.kind === 'effects');
    expect(effects).toMatchObject({
      name: 'effects',
      file: 'effects.parquet',
      dimensions: ['design', 'comparison', 'cohort', 'outcome'],
    });
    const columns = await duck.jsonRows<{ column_name: string }>(
      `DESCRIBE SELECT * FROM read_parquet(${sqlString(join(out, 'effects.parquet'))})`,
    );
    expect(columns.map((c) => c.column_name)).toContain('ci_high');
    expect((await stat(join(out, 'effects.parquet'))).size).toBeGreaterThan(0);
  }, 60_000);
});

import fc from 'fast-check';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMetrics } from '../pipeline/metrics/runMetrics.js';
import { readParquet, rid, writeLinkOutput, type BenefitRow, type JobRow } from './metricsLinkFixture.js';

/**
 * Random small populations, measured twice: by the SQL of `boldlink metrics`
 * and by a plain, loop-by-loop reading of docs/design.md, "Metric definitions", below.
 * Dates cluster around the 31/32-day and 12-month boundaries so the edges are
 * hit often.
 */

const T = '2021-12-31';
const DAY = 86_400_000;
const BASE = Date.UTC(2018, 0, 1);
const WML: Record<number, number> = { 2018: 9.59, 2019: 9.82, 2020: 10.05, 2021: 10.24, 2022: 10.48 };

const iso = (day: number) => new Date(BASE + day * DAY).toISOString().slice(0, 10);
const dayOf = (s: string) => (Date.parse(`${s}T00:00:00Z`) - BASE) / DAY;
/** As DuckDB's DATE + INTERVAL n MONTH: the same day n months on, clamped to the month's end. */
function plusMonths(day: number, months: number): number {
  const d = new Date(BASE + day * DAY);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return (Date.UTC(y, m, Math.min(d.getUTCDate(), last)) - BASE) / DAY;
}
const yearOf = (day: number) => new Date(BASE + day * DAY).getUTCFullYear();

interface Person {
  readonly name: string;
  readonly birth: string;
  readonly periods: { start: number; end: number | null; municipality: string; type: string }[];
  readonly jobs: {
    start: number;
    end: number | null;
    employer: string;
    hours: number;
    wage: number;
    contract: string;
  }[];
}

const personArb = (name: string) =>
  fc
    .record({
      birth: fc
        .tuple(fc.integer({ min: 1960, max: 2000 }), fc.integer({ min: 1, max: 12 }))
        .map(([y, m]) => `${y}-${String(m).padStart(2, '0')}-01`),
      first: fc.integer({ min: 0, max: 900 }),
      periods: fc.array(
        fc.record({
          gap: fc.oneof(fc.constantFrom(30, 31, 32, 33, 365, 366, -10), fc.integer({ min: -60, max: 500 })),
          length: fc.integer({ min: 0, max: 400 }),
          open: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
          municipality: fc.constantFrom('rotterdam', 'amsterdam'),
          type: fc.constantFrom('bijstand', 'ioaw'),
        }),
        { minLength: 1, maxLength: 3 },
      ),
      jobs: fc.array(
        fc.record({
          offset: fc.oneof(fc.constantFrom(-32, -31, 31, 32, 0, 1), fc.integer({ min: -60, max: 420 })),
          anchor: fc.nat(),
          length: fc.option(fc.oneof(fc.constantFrom(364, 365, 366), fc.integer({ min: 0, max: 800 })), { nil: null }),
          employer: fc.constantFrom('E1', 'E2', 'E3'),
          hours: fc.constantFrom(8, 11.5, 12, 24, 34.5, 35, 38),
          wage: fc.constantFrom(9.5, 9.59, 9.82, 10.05, 10.55, 11.06, 12, 15),
          contract: fc.constantFrom('permanent', 'temporary', 'agency'),
        }),
        { maxLength: 3 },
      ),
    })
    .map(({ birth, first, periods, jobs }): Person => {
      let cursor = first;
      const ps = periods.map((p) => {
        const start = Math.max(0, cursor + p.gap);
        const end = p.open ? null : start + p.length;
        cursor = end ?? start + p.length;
        return { start, end, municipality: p.municipality, type: p.type };
      });
      const ends = ps.map((p) => p.end ?? p.start);
      const js = jobs.map((j) => {
        const anchor = ends[j.anchor % ends.length] ?? 0;
        const start = Math.max(0, anchor + j.offset);
        return {
          start,
          end: j.length === null ? null : start + j.length,
          employer: j.employer,
          hours: j.hours,
          wage: j.wage,
          contract: j.contract,
        };
      });
      // Two jobs of one employer on one day would be one job; keep the data plausible.
      const unique = js.filter((j, i) => js.findIndex((k) => k.start === j.start && k.employer === j.employer) === i);
      return { name, birth, periods: ps, jobs: unique };
    });

interface Expected {
  rid: string;
  spell_no: number;
  municipality: string;
  benefit_type: string;
  start_date: string;
  end_date: string | null;
  age: number;
  outflow: boolean;
  outflow_year: number | null;
  to_work: boolean | null;
  censored: boolean | null;
  revolving: boolean | null;
  durable: boolean | null;
  first_contract_type: string | null;
  first_hours: number | null;
  first_wage_band: string | null;
  first_lasted_12m: boolean | null;
}

function ageOn(birth: string, day: number): number {
  const d = new Date(BASE + day * DAY);
  const [by, bm] = birth.split('-').map(Number) as [number, number];
  const months = d.getUTCFullYear() * 12 + d.getUTCMonth() + 1 - (by * 12 + bm);
  return Math.floor(months / 12);
}

/** docs/design.md, "Metric definitions", read literally. */
function oracle(person: Person): Expected[] {
  const t = dayOf(T);
  const periods = [...person.periods].sort(
    (a, b) =>
      a.start - b.start ||
      (a.end ?? Infinity) - (b.end ?? Infinity) ||
      a.municipality.localeCompare(b.municipality) ||
      a.type.localeCompare(b.type),
  );
  const spells: { start: number; end: number | null; periods: typeof periods }[] = [];
  let runningEnd = -Infinity;
  for (const p of periods) {
    const current = spells.at(-1);
    if (current !== undefined && p.start - runningEnd <= 31) {
      current.periods.push(p);
      runningEnd = Math.max(runningEnd, p.end ?? Infinity);
      current.end = runningEnd === Infinity ? null : runningEnd;
    } else {
      spells.push({ start: p.start, end: p.end, periods: [p] });
      runningEnd = p.end ?? Infinity;
    }
  }
  return spells.map((s, i): Expected => {
    const longest = [...s.periods].sort(
      (a, b) =>
        (b.end ?? Math.max(t, b.start)) - b.start - ((a.end ?? Math.max(t, a.start)) - a.start) ||
        a.start - b.start ||
        a.municipality.localeCompare(b.municipality) ||
        a.type.localeCompare(b.type),
    )[0]!;
    const base = {
      rid: rid(person.name),
      spell_no: i + 1,
      municipality: longest.municipality,
      benefit_type: longest.type,
      start_date: iso(s.start),
      end_date: s.end === null ? null : iso(s.end),
    };
    if (s.end === null || s.end > t) {
      return {
        ...base,
        age: ageOn(person.birth, s.start),
        outflow: false,
        outflow_year: null,
        to_work: null,
        censored: null,
        revolving: null,
        durable: null,
        first_contract_type: null,
        first_hours: null,
        first_wage_band: null,
        first_lasted_12m: null,
      };
    }
    const e = s.end;
    const h = plusMonths(e, 12);
    const around = person.jobs.filter((j) => j.start >= e - 31 && j.start <= e + 31);
    around.sort((a, b) => a.start - b.start || b.hours - a.hours || a.employer.localeCompare(b.employer));
    const first = around[0];
    const censored = h > t;
    const revolving = spells.some((other) => other.start > e && other.start <= h);
    const covered = person.jobs.some((j) => j.start <= h && (j.end === null || j.end >= h));
    let band: string | null = null;
    let lasted: boolean | null = null;
    if (first !== undefined) {
      const wml = WML[yearOf(first.start)]!;
      band = first.wage < wml ? 'below' : first.wage <= 1.1 * wml ? 'near' : 'above';
      const twelve = plusMonths(first.start, 12);
      lasted = first.end !== null ? first.end >= twelve : twelve <= t ? true : null;
    }
    return {
      ...base,
      age: ageOn(person.birth, e),
      outflow: true,
      outflow_year: yearOf(e),
      to_work: first !== undefined,
      censored,
      revolving: censored ? null : revolving,
      durable: censored ? null : first !== undefined && !revolving && covered,
      first_contract_type: first?.contract ?? null,
      first_hours: first?.hours ?? null,
      first_wage_band: band,
      first_lasted_12m: lasted,
    };
  });
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-oracle-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('metrics SQL against a literal reading of the definitions', () => {
  it('gives every spell the same outflow, work, revolving-door, durability and job-quality verdicts', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(fc.nat(), { minLength: 25, maxLength: 25 })
          .chain((seeds) => fc.tuple(...seeds.map((_, i) => personArb(`p${i}`)))),
        async (people) => {
          run += 1;
          const linked = join(root, `linked-${run}`);
          const out = join(root, `metrics-${run}`);
          const benefits: BenefitRow[] = people.flatMap((p) =>
            p.periods.map((b) => ({
              person: p.name,
              start: iso(b.start),
              end: b.end === null ? null : iso(b.end),
              municipality: b.municipality,
              benefit_type: b.type,
            })),
          );
          const jobs: JobRow[] = people.flatMap((p) =>
            p.jobs.map((j) => ({
              person: p.name,
              start: iso(j.start),
              end: j.end === null ? null : iso(j.end),
              employer: j.employer,
              hours: j.hours,
              wage: j.wage,
              contract: j.contract,
            })),
          );
          await writeLinkOutput(linked, {
            clients: people.map((p) => ({ person: p.name })),
            persons: people.map((p) => ({ person: p.name, birth_month: p.birth })),
            benefits,
            jobs,
            interventions: [],
          });
          await runMetrics({ input: linked, out, observationEnd: T });
          const actual = await readParquet<Expected>(join(out, 'spells.parquet'), 'true', 'rid, spell_no');
          const expected = people
            .flatMap(oracle)
            .sort((a, b) => (a.rid < b.rid ? -1 : a.rid > b.rid ? 1 : a.spell_no - b.spell_no));
          expect(actual).toEqual(expected);
          // The outflow table's grand total is the same count as the spells.
          const catalogue = JSON.parse(await readFile(join(out, 'tables.json'), 'utf8')) as {
            tables: { name: string }[];
          };
          expect(catalogue.tables.length).toBeGreaterThan(10);
          const [total] = await readParquet<Record<string, number>>(
            join(out, 'tables', 'outflow_by_year_municipality.parquet'),
            "outflow_year = 'Total' AND municipality = 'Total'",
          );
          expect(total?.spells).toBe(expected.filter((s) => s.outflow).length);
          expect(total?.durable).toBe(expected.filter((s) => s.durable === true).length);
          await rm(linked, { recursive: true, force: true });
          await rm(out, { recursive: true, force: true });
        },
      ),
      { numRuns: 6, seed: 20261125 },
    );
  }, 120_000);
});

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Duck, sqlString } from '../core/duckdb.js';
import type { TableUtility } from '../release/releaseUtility.js';
import type { DemoWorkspace } from './workspace.js';

/** A released figure: a number, or null with the reason it is not shown. */
export interface ReleasedValue {
  readonly value: number | null;
  readonly status: string;
}

export interface YearHeadline {
  readonly year: string;
  readonly outflows: ReleasedValue;
  readonly toWork: ReleasedValue;
  readonly durable: ReleasedValue;
  readonly uncensored: ReleasedValue;
}

export interface Headline {
  readonly linkage: readonly { source: string; records: number; linked: number; share: number }[];
  readonly linkedPersons: number;
  readonly byYear: readonly YearHeadline[];
  /** All outflow years together (the table's Total row): large enough to be published where single years are not. */
  readonly allYears: YearHeadline | null;
  /** What the release publishes, per table and overall (the release manifest's summary). */
  readonly utility: { readonly tables: Readonly<Record<string, TableUtility>>; readonly overall: TableUtility };
}

interface LinkageReport {
  benefitRecordsWithLinkedPerson: { bySource: { source: string; records: number; linked: number; share: number }[] };
  persons: { linked: number };
}

interface ReleaseManifest {
  summary: {
    disclosure: { utility: { tables: Record<string, TableUtility>; overall: TableUtility } };
  };
}

/**
 * What the demo prints at the end: linkage rates from the TTP's quality
 * report, and outflow figures from the *released* table (after disclosure
 * control), so the demo shows only what may leave the secure environment.
 */
export async function headlineFigures(ws: DemoWorkspace): Promise<Headline> {
  const linkage = JSON.parse(await readFile(join(ws.linked, 'linkage-report.json'), 'utf8')) as LinkageReport;
  const release = JSON.parse(await readFile(join(ws.release, 'manifest.json'), 'utf8')) as ReleaseManifest;
  const duck = await Duck.open({ threads: 1 });
  try {
    const rows = await duck.jsonRows<Record<string, string | number | null>>(`
      SELECT outflow_year, spells, spells_status, to_work, to_work_status, durable, durable_status, uncensored, uncensored_status
      FROM read_parquet(${sqlString(join(ws.release, 'tables', 'outflow_by_year_municipality.parquet'))})
      WHERE municipality = 'Total'
      ORDER BY outflow_year = 'Total', outflow_year`);
    const released = (row: Record<string, string | number | null>, column: string): ReleasedValue => ({
      value: row[column] === null || row[column] === undefined ? null : Number(row[column]),
      status: String(row[`${column}_status`]),
    });
    const years = rows.map((row) => ({
      year: String(row.outflow_year),
      outflows: released(row, 'spells'),
      toWork: released(row, 'to_work'),
      durable: released(row, 'durable'),
      uncensored: released(row, 'uncensored'),
    }));
    return {
      linkage: linkage.benefitRecordsWithLinkedPerson.bySource,
      linkedPersons: linkage.persons.linked,
      byYear: years.filter((y) => y.year !== 'Total'),
      allYears: years.find((y) => y.year === 'Total') ?? null,
      utility: release.summary.disclosure.utility,
    };
  } finally {
    duck.close();
  }
}

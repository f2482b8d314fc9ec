import { join } from 'node:path';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { StageInput } from '../pipeline/core/stageInput.js';
import { loadMetrics } from '../pipeline/release/loadMetrics.js';
import { isMargin, prepareTable } from '../pipeline/release/preparedTable.js';
import { LARGE_MARGIN_PERSONS } from '../pipeline/release/releaseUtility.js';

/**
 * A release held against the metrics output it was made from, as a researcher
 * and a privacy officer would judge it: over the aggregate tables, how many
 * values are suppressed against how many the rules make primary (from the
 * disclosure log), how many suppressed zeros no rule made primary, and how
 * many margin values of LARGE_MARGIN_PERSONS+ persons are suppressed; for the
 * effects, whether every programme cohort with 100+ persons per arm publishes
 * its shares, difference and CI. Read-only; used by the release bench and its
 * tests.
 */
export interface ReleaseCheck {
  readonly values: number;
  readonly suppressed: number;
  readonly primary: number;
  readonly zerosSuppressed: number;
  /** Suppressed zeros that are neither primary nor a zero part of a primary zero total. */
  readonly zerosSuppressedWithoutRule: number;
  readonly largeMargins: number;
  readonly largeMarginsSuppressed: number;
  /** Of those, how many by column and by primary or secondary: where the loss comes from. */
  readonly largeMarginsByColumn: Readonly<Record<string, number>>;
  readonly effectValues: number;
  readonly effectValuesSuppressed: number;
  readonly largeCohorts: number;
  readonly largeCohortsPublished: number;
}

interface LogLine {
  readonly suppression: string;
  readonly rule: string;
}

export async function checkRelease(metricsDir: string, releaseDir: string, logDir: string): Promise<ReleaseCheck> {
  const duck = await Duck.open({ threads: 1 });
  try {
    const log = new Map<string, LogLine>();
    const entries = await duck.jsonRows<{ table: string; cell: string; column: string } & LogLine>(
      `SELECT "table", cell, "column", suppression, rule
       FROM read_csv(${sqlString(join(logDir, 'disclosure-log.csv'))}, header = true, all_varchar = true)`,
    );
    for (const e of entries) log.set(`${e.table}\u0000${e.cell}\u0000${e.column}`, e);
    const metrics = await loadMetrics(await StageInput.open(metricsDir, { stage: 'metrics' }), duck);
    let values = 0;
    let suppressed = 0;
    let primary = 0;
    let zerosSuppressed = 0;
    let zerosSuppressedWithoutRule = 0;
    let largeMargins = 0;
    let largeMarginsSuppressed = 0;
    const largeMarginsByColumn: Record<string, number> = {};
    for (const loaded of metrics.tables) {
      const table = prepareTable(loaded);
      const released = await duck.jsonRows<Record<string, string | number | null>>(
        `SELECT * FROM read_parquet(${sqlString(join(releaseDir, 'tables', `${loaded.spec.name}.parquet`))})`,
      );
      const localOf = new Map<string, number>();
      for (let local = 0; local < table.layout.size; local++) {
        const byColumn = new Map(table.layout.columns.map((c, i) => [c, table.layout.valuesOf(local)[i]!]));
        localOf.set(loaded.spec.dimensions.map((d) => byColumn.get(d)).join('\u0000'), local);
      }
      for (const row of released) {
        const local = localOf.get(loaded.spec.dimensions.map((d) => String(row[d])).join('\u0000'))!;
        const margin = isMargin(table, local);
        for (const m of loaded.spec.measures) {
          const status = row[`${m.column}_status`];
          if (status === 'empty') continue;
          values++;
          const large = margin && m.kind === 'count' && table.data.get(m.column)![local]! >= LARGE_MARGIN_PERSONS;
          if (large) largeMargins++;
          if (status !== 'suppressed') continue;
          suppressed++;
          const entry = log.get(`${loaded.spec.name}\u0000${table.layout.describe(local)}\u0000${m.column}`);
          if (large) {
            largeMarginsSuppressed++;
            const k = `${m.column} ${entry?.suppression ?? '?'} ${entry?.rule ?? ''}`;
            largeMarginsByColumn[k] = (largeMarginsByColumn[k] ?? 0) + 1;
          }
          if (entry?.suppression === 'primary') primary++;
          if (m.kind === 'count' && table.data.get(m.column)![local] === 0) {
            zerosSuppressed++;
            if (entry?.suppression !== 'primary' && entry?.rule !== 'relation.zero-part') zerosSuppressedWithoutRule++;
          }
        }
      }
    }
    let effectValues = 0;
    let effectValuesSuppressed = 0;
    let largeCohorts = 0;
    let largeCohortsPublished = 0;
    for (const effects of metrics.effects) {
      const released = await duck.jsonRows<Record<string, string | number | null>>(
        `SELECT * FROM read_parquet(${sqlString(join(releaseDir, 'tables', `${effects.spec.name}.parquet`))})`,
      );
      released.forEach((row, i) => {
        const source = effects.rows[i]!;
        for (const [column, status] of Object.entries(row)) {
          if (!column.endsWith('_status') || status === 'empty') continue;
          effectValues++;
          if (status === 'suppressed') effectValuesSuppressed++;
        }
        if (source.design !== 'programme') return;
        const large = effects.spec.groups.every(
          (g) => g.persons !== undefined && Number(source[g.persons] ?? 0) >= LARGE_MARGIN_PERSONS,
        );
        if (!large) return;
        largeCohorts++;
        const read = [...effects.spec.groups.map((g) => g.share), 'difference', 'ci_low', 'ci_high'];
        if (read.every((c) => row[`${c}_status`] === 'published')) largeCohortsPublished++;
      });
    }
    return {
      values,
      suppressed,
      primary,
      zerosSuppressed,
      zerosSuppressedWithoutRule,
      largeMargins,
      largeMarginsSuppressed,
      largeMarginsByColumn,
      effectValues,
      effectValuesSuppressed,
      largeCohorts,
      largeCohortsPublished,
    };
  } finally {
    duck.close();
  }
}

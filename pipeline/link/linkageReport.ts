import type { RowAccounting } from '../../schemas/manifest.js';
import type { HolderInput, LinkInputs, SourceTableSummary } from './linkInputs.js';
import type { MunicipalTable } from './sourceTables.js';

/**
 * The linkage quality report (`linkage-report.json`, also the manifest's
 * `summary.linkage`): counts only, never an identifier. CBS publishes linkage
 * as unique / multiple / none; those words are the report's too:
 * - unique: linked to exactly one person, on BSN (P1) or on the fallback (F1);
 * - multiple: the fallback fields fit several persons, so the record stays unlinked;
 * - none: no person found (or one without a BSN, who cannot be given a RID).
 */

export const LINKAGE_REPORT_FORMAT = 'boldlink-linkage-report/v1';

/** Why a municipal record was not linked; also its row-accounting reason. */
export const UNLINKED_REASONS = ['no_match', 'ambiguous_fallback', 'person_without_bsn', 'no_identifier'] as const;
export type UnlinkedReason = (typeof UNLINKED_REASONS)[number];

/** One row of linkageCounts.sql. */
export interface FileLinkCounts {
  readonly municipality: string;
  readonly file: string;
  readonly records: number;
  readonly matched_on_bsn: number;
  readonly matched_on_fallback: number;
  readonly ambiguous_fallback: number;
  readonly no_match: number;
  readonly person_without_bsn: number;
  readonly no_identifier: number;
  readonly linked_persons: number;
}

/** The row of holderCounts.sql. */
export interface HolderCounts {
  readonly persons_rows: number;
  readonly persons_without_bsn: number;
  readonly persons_linked_rows: number;
  readonly persons_kept: number;
  readonly jobs_rows: number;
  readonly jobs_without_bsn: number;
  readonly jobs_kept: number;
}

/** The row of personCounts.sql. */
export interface PersonCounts {
  readonly linked_persons: number;
  readonly in_several_municipalities: number;
}

/** Counts the source's pseudonymize manifest reported for the table; null where it did not say. */
export interface SourceCounts {
  readonly rows: number | null;
  readonly duplicates: number | null;
  readonly invalidBsn: number | null;
  readonly missingBsn: number | null;
  readonly bsnRepaired: number | null;
  readonly fallback: number | null;
}

export interface FileLinkage {
  readonly file: MunicipalTable;
  readonly records: number;
  readonly unique: number;
  readonly matchedOnBsn: number;
  readonly matchedOnFallback: number;
  readonly multiple: number;
  readonly none: number;
  readonly unlinkedByReason: Readonly<Record<UnlinkedReason, number>>;
  /** Distinct persons the file's linked records belong to. */
  readonly linkedPersons: number;
  /** Share of records linked (unique / records); null for an empty file. */
  readonly linkedShare: number | null;
  /** Carried over from the source's pseudonymize manifest. */
  readonly fromSource: SourceCounts;
}

export interface BenefitLinkage {
  readonly source: string;
  readonly records: number;
  readonly linked: number;
  readonly share: number | null;
}

export interface LinkageReport {
  readonly format: typeof LINKAGE_REPORT_FORMAT;
  readonly project: string;
  readonly sources: readonly { readonly source: string; readonly files: readonly FileLinkage[] }[];
  /** Benefit records (the periods benefit spells are built from) whose person is linked. */
  readonly benefitRecordsWithLinkedPerson: {
    readonly records: number;
    readonly linked: number;
    readonly share: number | null;
    readonly bySource: readonly BenefitLinkage[];
  };
  readonly persons: { readonly linked: number; readonly inSeveralMunicipalities: number };
  readonly holder: {
    readonly source: string;
    readonly persons: {
      readonly records: number;
      readonly withoutBsn: number;
      readonly kept: number;
      readonly fromSource: SourceCounts;
    };
    readonly jobs: {
      readonly records: number;
      readonly withoutBsn: number;
      readonly kept: number;
      readonly fromSource: SourceCounts;
    };
  };
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : Math.round((part / whole) * 1e6) / 1e6;
}

function sourceCounts(summary: SourceTableSummary | undefined): SourceCounts {
  return {
    rows: summary?.rows ?? null,
    duplicates: summary?.duplicates ?? null,
    invalidBsn: summary?.invalid_bsn ?? null,
    missingBsn: summary?.missing_bsn ?? null,
    bsnRepaired: summary?.bsn_repaired ?? null,
    fallback: summary?.fallback ?? null,
  };
}

export function buildLinkageReport(
  project: string,
  inputs: LinkInputs,
  files: readonly FileLinkCounts[],
  persons: PersonCounts,
  holder: HolderCounts,
): LinkageReport {
  const sources = inputs.municipalities.map((m) => ({
    source: m.municipality,
    files: m.tables.map((table): FileLinkage => {
      const c = files.find((f) => f.municipality === m.municipality && f.file === table);
      const unlinkedByReason: Record<UnlinkedReason, number> = {
        no_match: c?.no_match ?? 0,
        ambiguous_fallback: c?.ambiguous_fallback ?? 0,
        person_without_bsn: c?.person_without_bsn ?? 0,
        no_identifier: c?.no_identifier ?? 0,
      };
      const records = c?.records ?? 0;
      const unique = (c?.matched_on_bsn ?? 0) + (c?.matched_on_fallback ?? 0);
      return {
        file: table,
        records,
        unique,
        matchedOnBsn: c?.matched_on_bsn ?? 0,
        matchedOnFallback: c?.matched_on_fallback ?? 0,
        multiple: unlinkedByReason.ambiguous_fallback,
        none: unlinkedByReason.no_match + unlinkedByReason.person_without_bsn + unlinkedByReason.no_identifier,
        unlinkedByReason,
        linkedPersons: c?.linked_persons ?? 0,
        linkedShare: share(unique, records),
        fromSource: sourceCounts(m.sourceSummary[table]),
      };
    }),
  }));
  const bySource = sources.map((s): BenefitLinkage => {
    const benefits = s.files.find((f) => f.file === 'benefits');
    const records = benefits?.records ?? 0;
    const linked = benefits?.unique ?? 0;
    return { source: s.source, records, linked, share: share(linked, records) };
  });
  const benefitRecords = bySource.reduce((n, b) => n + b.records, 0);
  const benefitLinked = bySource.reduce((n, b) => n + b.linked, 0);
  return {
    format: LINKAGE_REPORT_FORMAT,
    project,
    sources,
    benefitRecordsWithLinkedPerson: {
      records: benefitRecords,
      linked: benefitLinked,
      share: share(benefitLinked, benefitRecords),
      bySource,
    },
    persons: { linked: persons.linked_persons, inSeveralMunicipalities: persons.in_several_municipalities },
    holder: holderSection(inputs.holder, holder),
  };
}

function holderSection(input: HolderInput, c: HolderCounts): LinkageReport['holder'] {
  return {
    source: input.source,
    persons: {
      records: c.persons_rows,
      withoutBsn: c.persons_without_bsn,
      kept: c.persons_kept,
      fromSource: sourceCounts(input.sourceSummary.persons),
    },
    jobs: {
      records: c.jobs_rows,
      withoutBsn: c.jobs_without_bsn,
      kept: c.jobs_kept,
      fromSource: sourceCounts(input.sourceSummary.jobs),
    },
  };
}

/**
 * Row accounting per input file (rows in = rows linked out + rows left behind,
 * by reason). Left-behind rows are counted only: they are written nowhere.
 */
export function linkAccounting(report: LinkageReport, holder: HolderCounts): RowAccounting[] {
  const entries: RowAccounting[] = [];
  for (const source of report.sources) {
    for (const f of source.files) {
      entries.push({
        scope: `${source.source}/${f.file}.parquet`,
        rowsIn: f.records,
        rowsOut: f.unique,
        rowsQuarantined: f.records - f.unique,
        quarantinedByReason: { ...f.unlinkedByReason },
      });
    }
  }
  const personsNotInMunicipalData = holder.persons_rows - holder.persons_without_bsn - holder.persons_linked_rows;
  const duplicatePersons = holder.persons_linked_rows - holder.persons_kept;
  entries.push({
    scope: `${report.holder.source}/persons.parquet`,
    rowsIn: holder.persons_rows,
    rowsOut: holder.persons_kept,
    rowsQuarantined: holder.persons_rows - holder.persons_kept,
    quarantinedByReason: {
      not_in_municipal_data: personsNotInMunicipalData,
      without_bsn: holder.persons_without_bsn,
      duplicate_person: duplicatePersons,
    },
  });
  entries.push({
    scope: `${report.holder.source}/jobs.parquet`,
    rowsIn: holder.jobs_rows,
    rowsOut: holder.jobs_kept,
    rowsQuarantined: holder.jobs_rows - holder.jobs_kept,
    quarantinedByReason: {
      not_in_municipal_data: holder.jobs_rows - holder.jobs_without_bsn - holder.jobs_kept,
      without_bsn: holder.jobs_without_bsn,
    },
  });
  return entries;
}

const count = (n: number | null): string => (n === null ? '–' : n.toLocaleString('en-US'));
const percent = (s: number | null): string => (s === null ? '–' : `${(s * 100).toFixed(1)}%`);

/** The readable summary printed on the terminal. */
export function formatLinkageReport(report: LinkageReport, reportPath: string): string {
  const header = [
    'source',
    'file',
    'records',
    'unique',
    'on BSN',
    'on fallback',
    'multiple',
    'none',
    'linked',
    'duplicates*',
    'invalid BSN*',
    'BSN repaired*',
  ];
  const rows = report.sources.flatMap((s) =>
    s.files.map((f) => [
      s.source,
      f.file,
      count(f.records),
      count(f.unique),
      count(f.matchedOnBsn),
      count(f.matchedOnFallback),
      count(f.multiple),
      count(f.none),
      percent(f.linkedShare),
      count(f.fromSource.duplicates),
      count(f.fromSource.invalidBsn),
      count(f.fromSource.bsnRepaired),
    ]),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  const benefits = report.benefitRecordsWithLinkedPerson;
  const h = report.holder;
  return [
    `Linkage quality report, project ${report.project} (${reportPath})`,
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    'unique = linked to exactly one person; multiple = fallback fields fit several persons (left unlinked); none = no person found.',
    "* as reported by the source's pseudonymize run.",
    `Benefit records with a linked person: ${percent(benefits.share)} (${count(benefits.linked)} of ${count(benefits.records)})${benefits.bySource.length > 1 ? `; ${benefits.bySource.map((b) => `${b.source} ${percent(b.share)}`).join(', ')}` : ''}.`,
    `Persons linked: ${count(report.persons.linked)} (known to several municipalities: ${count(report.persons.inSeveralMunicipalities)}).`,
    `Kept from ${h.source} (only persons in municipal data): ${count(h.persons.kept)} of ${count(h.persons.records)} persons, ${count(h.jobs.kept)} of ${count(h.jobs.records)} jobs.`,
    '',
  ].join('\n');
}

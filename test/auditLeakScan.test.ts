import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkIdentifierLeakage } from '../pipeline/audit/identifierLeakage.js';
import { scanWorkspace } from '../pipeline/audit/workspace.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { configureLogger } from '../pipeline/core/log.js';

/**
 * The identifier scan reads a long file's values once per distinct value per
 * column, and skips numbers that cannot have 8 or 9 digits: the counts it
 * reports must still be counts of cells, the same for a long file (grouped)
 * as for a short one (cell by cell).
 */

const P1 = '0123456789abcdef0123456789abcdef';
let root: string;
let duck: Duck;

beforeAll(async () => {
  configureLogger({ level: 'warn' });
  root = await mkdtemp(join(tmpdir(), 'boldlink-audit-leak-'));
  duck = await Duck.open({ threads: 1 });
  const source = join(root, 'source');
  const linked = join(root, 'linked');
  await Promise.all([mkdir(source), mkdir(linked)]);
  await writeFile(join(source, 'manifest.json'), JSON.stringify({ stage: 'pseudonymize' }));
  await writeFile(join(linked, 'manifest.json'), JSON.stringify({ stage: 'link' }));
  await duck.run(
    `COPY (SELECT ${sqlString(P1)} AS p1) TO ${sqlString(join(source, 'clients.parquet'))} (FORMAT parquet)`,
  );
  // Planted in the first 1,000 rows of each file: a BSN written with dots in 1,000 notes, 123456782 as a number in 7
  // rows, 12345672 (012345672 with its zero lost) as a whole DOUBLE in 3, and the source pseudonym in 500.
  const planted = (rows: number) => `
    SELECT CASE WHEN i < 1000 THEN 'client 1234.56.782 called' ELSE 'contract ' || (i % 7) END AS note,
           CASE WHEN i < 7 THEN 123456782 ELSE i % 40 END::BIGINT AS amount,
           CASE WHEN i < 3 THEN 12345672.0 WHEN i < 10 THEN 12345672.5 ELSE 35.0 END::DOUBLE AS hours,
           (i % 120)::SMALLINT AS small,
           CASE WHEN i < 500 THEN ${sqlString(P1)} END AS carried
    FROM range(${rows}) r(i)`;
  await duck.run(`COPY (${planted(60_000)}) TO ${sqlString(join(linked, 'long.parquet'))} (FORMAT parquet)`);
  await duck.run(`COPY (${planted(1_200)}) TO ${sqlString(join(linked, 'short.parquet'))} (FORMAT parquet)`);
});

afterAll(async () => {
  duck.close();
  await rm(root, { recursive: true, force: true });
});

describe('the identifier scan of long and short files', () => {
  it('counts every planted cell, the same in a long file (values grouped) as in a short one', async () => {
    const scanDuck = await Duck.open({ threads: 1 });
    try {
      const { findings } = await checkIdentifierLeakage(await scanWorkspace(root), scanDuck);
      const byFile = (file: string) =>
        findings
          .filter((f) => f.file === file)
          .map((f) => `${f.rule} ${f.column ?? ''} ${f.count ?? ''}`)
          .sort();
      const expected = [
        'leak.bsn amount 7',
        'leak.bsn note 1000',
        'leak.bsn-padded hours 3',
        'leak.p1-in-linked carried 500',
      ];
      expect(byFile('linked/long.parquet')).toEqual(expected);
      expect(byFile('linked/short.parquet')).toEqual(expected);
      expect(findings.filter((f) => !f.file.startsWith('linked/long') && !f.file.startsWith('linked/short'))).toEqual(
        [],
      );
    } finally {
      scanDuck.close();
    }
  });
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hashLineFile, RID_PREFIX } from '../../keys/batchPseudonyms.js';
import { sqlString, type Duck } from '../core/duckdb.js';

/**
 * Fill `researchPseudonyms(p1, rid)` for the distinct persons in
 * `linkedPersons` (identityLinks.sql). DuckDB has no HMAC, so this is the one
 * step outside SQL: DuckDB writes the distinct P1s to a scratch file, the
 * keys/ batch hasher streams it into `p1<TAB>rid` lines (precomputed HMAC
 * state, bounded memory, no per-value JS strings), and DuckDB reads that back
 * for the joins. The scratch files hold P1s, which the TTP already has; they
 * live in the stage's scratch directory, outside the output, and are removed
 * right after. Returns the number of persons.
 */
export async function assignResearchPseudonyms(
  duck: Duck,
  projectKey: Uint8Array,
  scratchDir: string,
): Promise<number> {
  const p1File = join(scratchDir, 'linked-persons.p1');
  const ridFile = join(scratchDir, 'linked-persons.rid');
  try {
    await duck.run(
      `COPY (SELECT p1 FROM linkedPersons) TO ${sqlString(p1File)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '')`,
    );
    const persons = await hashLineFile(projectKey, RID_PREFIX, p1File, ridFile);
    if (persons > 0) {
      await duck.run(
        `INSERT INTO researchPseudonyms SELECT p1, rid FROM read_csv(${sqlString(ridFile)}, delim = '\t', header = false, quote = '', escape = '', auto_detect = false, columns = {'p1': 'VARCHAR', 'rid': 'VARCHAR'})`,
      );
    }
    return persons;
  } finally {
    await rm(p1File, { force: true });
    await rm(ridFile, { force: true });
  }
}

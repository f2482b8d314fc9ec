import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { hashLineFile } from '../../keys/batchPseudonyms.js';
import { Duck, sqlIdent, sqlString } from '../core/duckdb.js';

/**
 * Pseudonymize each distinct identifier once (DESIGN.md): DuckDB writes the
 * distinct messages to a scratch file, the batch hasher streams it into
 * `message<TAB>pseudonym` lines, and DuckDB reads those back as a table to join
 * on. Memory stays bounded at any scale; the scratch files are deleted at once
 * (they are as sensitive as the input).
 *
 * `distinctMessages` is a query with one VARCHAR column `message` holding
 * values without tab, newline or quote characters (digits for BSNs; validated
 * fields for fallback messages).
 */
export async function hashDistinct(duck: Duck, key: Uint8Array, prefix: string, distinctMessages: string, scratchDir: string, name: string): Promise<number> {
  const messages = join(scratchDir, `${name}.messages.txt`);
  const hashed = join(scratchDir, `${name}.hashed.tsv`);
  try {
    await duck.run(`COPY (${distinctMessages}) TO ${sqlString(messages)} (FORMAT csv, HEADER false, DELIMITER '\t', QUOTE '')`);
    const count = await hashLineFile(key, prefix, messages, hashed);
    await rm(messages, { force: true });
    await duck.run(
      `CREATE OR REPLACE TEMP TABLE ${sqlIdent(name)} AS SELECT * FROM read_csv(${sqlString(hashed)}, delim = '\t', quote = '', escape = '', header = false, auto_detect = false, columns = {'message': 'VARCHAR', 'pseudonym': 'VARCHAR'})`,
    );
    return count;
  } finally {
    await rm(messages, { force: true });
    await rm(hashed, { force: true });
  }
}

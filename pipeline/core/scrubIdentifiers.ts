import { looksLikeBsn } from '../../schemas/bsn.js';

/**
 * The last line of defence for anything printed: log lines and error messages.
 * Field-level redaction (see log.ts) removes known identifier fields; this
 * catches values that slipped into free text, such as a DuckDB conversion
 * error quoting a cell.
 *
 * - digit runs of 8 or 9 that pass the elfproef (possibly with the lost zero),
 *   including runs split by the separators a BSN may carry (spaces, dots, hyphens);
 * - 32 hex characters standing alone: the shape of P1, F1 and RID pseudonyms;
 * - 44-character base64 ending in '=': the shape of a 32-byte key as key files
 *   hold it. (64 hex characters are left alone: manifests and logs carry
 *   sha256 checksums of that shape; keys are kept out by field redaction.)
 *
 * Dates (YYYY-MM-DD, DD-MM-YYYY) are digit runs with separators too; they are
 * left alone so that a log line about a date range stays readable.
 */
const DIGIT_RUN = /(?<![0-9A-Za-z])[0-9](?:[0-9]|[ .-](?=[0-9])){7,12}(?![0-9A-Za-z])/g;
const DATE = /^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{2}-[0-9]{2}-[0-9]{4})$/;
const HEX32 = /(?<![0-9a-fA-F])[0-9a-fA-F]{32}(?![0-9a-fA-F])/g;
const BASE64_KEY = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{43}=(?![A-Za-z0-9+/=])/g;

export function scrubIdentifiers(text: string): string {
  return text
    .replace(DIGIT_RUN, (run) => (!DATE.test(run) && looksLikeBsn(run.replace(/[ .-]/g, '')) ? '[bsn]' : run))
    .replace(HEX32, '[pseudonym]')
    .replace(BASE64_KEY, '[key]');
}

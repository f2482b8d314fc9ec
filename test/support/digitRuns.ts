/**
 * Runs of eight or more digits in a text, outside hashes. A pseudonym or a
 * key fingerprint is 32+ hex characters and, by chance, often holds nine
 * digits in a row; with a fresh random key each run, such a run equals one of
 * thousands of input BSNs now and then. That is not a leak, so hex words of
 * 32 characters or more are taken out before the digits are read.
 */
export function digitRunsOutsideHashes(text: string): string[] {
  return text.replace(/(?<![0-9a-z])[0-9a-f]{32,}(?![0-9a-z])/gi, ' ').match(/\d{8,}/g) ?? [];
}

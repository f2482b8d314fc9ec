import type { Command } from 'commander';
import { z } from 'zod';
import { LoadedKey } from '../../keys/keyFile.js';
import { parseCommandOptions } from '../core/commandOptions.js';
import { log } from '../core/log.js';

const options = z.object({
  key: z.string().min(1),
  source: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a short name: letters, digits, _ or -'),
  mapping: z.string().min(1).optional(),
  input: z.array(z.string().min(1)).min(1),
  out: z.string().min(1),
});

export function registerPseudonymize(program: Command): void {
  program
    .command('pseudonymize')
    .description('Source steward: validate records, replace BSN by source pseudonyms, quarantine bad rows.')
    .requiredOption('--key <file>', 'the source key file (role source)')
    .requiredOption('--source <name>', 'name of this source, e.g. rotterdam or cbs')
    .option('--mapping <file>', 'column-mapping file for exports with their own headers')
    .requiredOption('--input <files...>', 'CSV or Parquet files')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (raw: unknown) => {
      const o = parseCommandOptions(options, raw);
      const key = await LoadedKey.load(o.key, 'source');
      // Loaded on use, so that other subcommands start without the source stage's modules.
      const { pseudonymize } = await import('./pseudonymize.js');
      const result = await pseudonymize({
        key,
        source: o.source,
        ...(o.mapping !== undefined ? { mappingPath: o.mapping } : {}),
        inputs: o.input,
        outDir: o.out,
      });
      log().info(
        { out: result.outDir, quarantined: result.quarantined, fingerprint: key.fingerprint },
        'pseudonymize done',
      );
      const lines = Object.entries(result.tables).map(
        ([table, s]) =>
          `  ${table.padEnd(14)} ${String(s.rows).padStart(10)} rows  (bsn ${s.bsn}, repaired ${s.bsn_repaired}, fallback ${s.fallback}, duplicates ${s.duplicates})`,
      );
      process.stdout.write(
        `Pseudonymized with source key ${key.fingerprint} into ${result.outDir}\n${lines.join('\n')}\n` +
          `  quarantined    ${String(result.quarantined).padStart(10)} rows  → ${result.quarantineFile} (stays at the source)\n`,
      );
    });
}

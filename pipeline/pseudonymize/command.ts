import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerPseudonymize(program: Command): void {
  program
    .command('pseudonymize')
    .description('Source steward: validate records, replace BSN by source pseudonyms, quarantine bad rows.')
    .requiredOption('--key <file>', 'the source key file (role source)')
    .requiredOption('--source <name>', 'name of this source, e.g. rotterdam or cbs')
    .option('--mapping <file>', 'column-mapping file for exports with their own headers')
    .requiredOption('--input <files...>', 'CSV or Parquet files')
    .requiredOption('--out <dir>', 'output directory')
    .action(() => {
      throw new NotImplementedError('pseudonymize', 5);
    });
}

import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('Researcher: read-only SQL over the released tables only.')
    .requiredOption('--release <dir>', 'release bundle directory')
    .option('--format <format>', 'table, csv, json or arrow', 'table')
    .argument('<sql>', 'one SELECT statement')
    .action(() => {
      throw new NotImplementedError('query', 9);
    });
}

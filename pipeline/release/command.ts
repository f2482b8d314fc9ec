import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerRelease(program: Command): void {
  program
    .command('release')
    .description('Secure environment: disclosure control, then a release bundle of tables and an HTML report.')
    .requiredOption('--input <dir>', 'metrics output directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--rules <file>', 'disclosure rules file (default: examples/rules.json)')
    .action(() => {
      throw new NotImplementedError('release', 8);
    });
}

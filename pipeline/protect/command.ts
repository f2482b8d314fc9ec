import type { Command } from 'commander';
import type { ProtectOptions } from './runProtect.js';

export function registerProtect(program: Command): void {
  program
    .command('protect')
    .description('Disclosure control for any count table of inner cells: margins, primary and secondary suppression.')
    .requiredOption('--input <table>', 'CSV or Parquet file of inner cells')
    .requiredOption('--dimensions <a,b,c>', 'dimension columns')
    .requiredOption('--count <column>', 'count column')
    .option(
      '--hierarchy <a>b>',
      'a hierarchy between two dimensions, e.g. municipality>district (repeatable)',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--rules <file>', 'disclosure rules file (default: examples/rules.json)')
    .requiredOption('--out <dir>', 'output directory')
    .action(async (options: ProtectOptions) => {
      const { runProtect } = await import('./runProtect.js');
      await runProtect(options);
    });
}

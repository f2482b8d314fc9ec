import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Secure environment: benefit spells, outflow, durable outflow, job quality and effects.')
    .requiredOption('--input <dir>', 'link output directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--definitions <file>', 'metric definitions file (default: examples/definitions.json)')
    .option('--observation-end <date>', 'YYYY-MM-DD; default: latest date in the linked data')
    .action(() => {
      throw new NotImplementedError('metrics', 7);
    });
}

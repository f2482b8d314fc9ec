import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the whole pipeline end to end on generated data, with a key per role in separate folders.')
    .option('--scale <scale>', 'tiny, small, city or national', 'small')
    .option('--out <dir>', 'workspace directory', 'demo-output')
    .action(() => {
      throw new NotImplementedError('demo', 11);
    });
}

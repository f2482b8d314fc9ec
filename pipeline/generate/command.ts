import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Generate synthetic municipal exports and microdata with ground truth (no real data, ever).')
    .requiredOption('--scale <scale>', 'tiny (~5k persons), small (~50k), city (~650k) or national (~17M)')
    .requiredOption('--seed <n>', 'random seed; the same seed gives byte-identical files')
    .requiredOption('--out <dir>', 'output directory')
    .action(() => {
      throw new NotImplementedError('generate', 4);
    });
}

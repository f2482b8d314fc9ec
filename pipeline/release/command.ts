import type { Command } from 'commander';
import type { ReleaseOptions } from './runRelease.js';

export function registerRelease(program: Command): void {
  program
    .command('release')
    .description('Secure environment: disclosure control, then a release bundle of tables and an HTML report.')
    .requiredOption('--input <dir>', 'metrics output directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--rules <file>', 'disclosure rules file (default: examples/rules.json)')
    .action(async (options: ReleaseOptions) => {
      // Loaded on use, so that other subcommands start without the disclosure-control engine.
      const { runRelease } = await import('./runRelease.js');
      await runRelease(options);
    });
}

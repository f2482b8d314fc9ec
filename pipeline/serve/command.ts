import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Researcher: HTTP API and web page over a release bundle.')
    .requiredOption('--release <dir>', 'release bundle directory')
    .requiredOption('--tokens <file>', 'tokens file (hashes only)')
    .option('--port <n>', 'port to listen on', '8080')
    .action(() => {
      throw new NotImplementedError('serve', 9);
    });
}

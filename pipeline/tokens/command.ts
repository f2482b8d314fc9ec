import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description('Manage researchers\' access tokens for `boldlink serve`.');
  tokens
    .command('add')
    .description('Create a token for a researcher; prints it once and stores only its hash.')
    .requiredOption('--name <name>', 'researcher name')
    .requiredOption('--file <file>', 'tokens file')
    .action(() => {
      throw new NotImplementedError('tokens add', 9);
    });
}

import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('Create and inspect key files (K_src for sources, K_ttp for the trusted third party).');
  keys
    .command('new')
    .description('Create a new key file with 32 random bytes, mode 0600.')
    .requiredOption('--role <role>', 'source or ttp')
    .requiredOption('--out <file>', 'key file to create (never overwritten)')
    .option('--key-id <id>', 'a label for the key, shown in manifests')
    .action(() => {
      throw new NotImplementedError('keys new', 5);
    });
  keys
    .command('fingerprint')
    .description('Print the key fingerprint alone on stdout.')
    .argument('<file>', 'key file')
    .action(() => {
      throw new NotImplementedError('keys fingerprint', 5);
    });
  keys
    .command('check')
    .description('Check a key file: format, role and permissions.')
    .argument('<file>', 'key file')
    .action(() => {
      throw new NotImplementedError('keys check', 5);
    });
}

import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerLink(program: Command): void {
  program
    .command('link')
    .description('Trusted third party: link pseudonymized sources and replace source pseudonyms by project pseudonyms.')
    .requiredOption('--key <file>', 'the TTP key file (role ttp)')
    .requiredOption('--project <id>', 'project id; different projects get unlinkable pseudonyms')
    .requiredOption('--input <dirs...>', 'pseudonymize output directories')
    .requiredOption('--out <dir>', 'output directory')
    .action(() => {
      throw new NotImplementedError('link', 6);
    });
}

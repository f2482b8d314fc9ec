import type { Command } from 'commander';
import { NotImplementedError } from '../core/errors.js';

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description("Privacy officer: check key separation, identifier leakage and the release's disclosure control.")
    .requiredOption('--workspace <dir>', 'folder holding the stage directories of a run')
    .option('--keys <dir>', 'folder with the key files, to check roles, permissions and fingerprints')
    .option('--format <format>', 'text, json or html', 'text')
    .action(() => {
      throw new NotImplementedError('audit', 10);
    });
}

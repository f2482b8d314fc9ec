import type { Command } from 'commander';

export function registerTokens(program: Command): void {
  const tokens = program.command('tokens').description("Manage researchers' access tokens for `boldlink serve`.");
  tokens
    .command('add')
    .description('Create a token for a researcher; prints it once and stores only its hash.')
    .requiredOption('--name <name>', 'researcher name')
    .requiredOption('--file <file>', 'tokens file (created with mode 0600 if missing)')
    .action(async (options: { name: string; file: string }) => {
      const { addToken } = await import('./tokenStore.js');
      const token = await addToken(options.file, options.name);
      process.stdout.write(`${token}\n`);
      process.stderr.write(
        `boldlink: token for '${options.name}' added to ${options.file}. It is shown only this once: hand it to the researcher over a secure channel.\n`,
      );
    });
  tokens
    .command('list')
    .description('List the researchers in a tokens file (names and creation dates; no token or hash).')
    .requiredOption('--file <file>', 'tokens file')
    .action(async (options: { file: string }) => {
      const { readTokensFile } = await import('./tokenStore.js');
      const file = await readTokensFile(options.file);
      for (const entry of file.tokens) process.stdout.write(`${entry.name}\t${entry.created}\n`);
    });
}

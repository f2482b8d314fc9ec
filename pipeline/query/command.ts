import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';
import { UsageError } from '../core/errors.js';
import { DEFAULT_LIMITS, DEFAULT_MEMORY_LIMIT } from './queryLimits.js';

const options = z.object({
  release: z.string().min(1),
  format: z.enum(['table', 'csv', 'json', 'arrow'], { message: '--format must be table, csv, json or arrow' }),
  maxRows: z.coerce.number().int().positive({ message: '--max-rows must be a positive whole number' }),
  maxBytes: z.coerce.number().int().positive({ message: '--max-bytes must be a positive whole number of bytes' }),
  timeout: z.coerce.number().positive({ message: '--timeout must be a positive number of seconds' }),
  memoryLimit: z.string().regex(/^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, {
    message: "--memory-limit must be a size such as '512MB' or '2GB'",
  }),
});

export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('Researcher: read-only SQL over the released tables only.')
    .requiredOption('--release <dir>', 'release bundle directory')
    .option('--format <format>', 'table, csv, json or arrow', 'table')
    .option('--max-rows <n>', 'refuse results with more rows than this', String(1_000_000))
    .option('--max-bytes <n>', 'refuse results whose values take more bytes than this', String(DEFAULT_LIMITS.maxBytes))
    .option('--timeout <seconds>', 'stop a query running longer than this', String(DEFAULT_LIMITS.timeoutMs / 1000))
    .option('--memory-limit <size>', "the query engine's memory limit (DuckDB memory_limit)", DEFAULT_MEMORY_LIMIT)
    .argument('<sql>', 'one SELECT statement')
    .action(async (sql: string, raw: unknown) => {
      const { release, format, maxRows, maxBytes, timeout, memoryLimit } = parseCommandOptions(
        options,
        raw,
        (_option, message) => message,
      );
      if (format === 'arrow' && process.stdout.isTTY === true)
        throw new UsageError('--format arrow writes binary: redirect it to a file (> result.arrows).');
      const [{ ReleaseDatabase }, { ReleaseBundle }, { toArrow, toCsv, toJsonBody, toTextTable }] = await Promise.all([
        import('./releaseDatabase.js'),
        import('./releaseBundle.js'),
        import('./resultFormat.js'),
      ]);
      const database = await ReleaseDatabase.open(await ReleaseBundle.open(release), { memoryLimit });
      try {
        const result = await database.query(sql, {
          ...DEFAULT_LIMITS,
          maxRows,
          maxBytes,
          timeoutMs: timeout * 1000,
        });
        for (const warning of result.warnings) process.stderr.write(`boldlink: warning: ${warning}\n`);
        const output: string | Uint8Array =
          format === 'json'
            ? `${JSON.stringify(toJsonBody(result), null, 2)}\n`
            : format === 'csv'
              ? toCsv(result)
              : format === 'arrow'
                ? toArrow(result)
                : toTextTable(result);
        await new Promise<void>((resolve, reject) =>
          process.stdout.write(output, (error) => (error ? reject(error) : resolve())),
        );
      } finally {
        database.close();
      }
    });
}

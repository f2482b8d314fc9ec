import type { Command } from 'commander';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';
import { log } from '../core/log.js';
import { DEFAULT_LIMITS, DEFAULT_MEMORY_LIMIT } from '../query/queryLimits.js';

const options = z.object({
  release: z.string().min(1),
  tokens: z.string().min(1),
  port: z.coerce.number().int().min(0).max(65535, { message: '--port must be 0–65535' }),
  host: z.string().min(1),
  requestLog: z.string().min(1).optional(),
  maxRows: z.coerce.number().int().positive({ message: '--max-rows must be a positive whole number' }),
  maxBytes: z.coerce.number().int().positive({ message: '--max-bytes must be a positive whole number of bytes' }),
  timeout: z.coerce.number().positive({ message: '--timeout must be a positive number of seconds' }),
  memoryLimit: z.string().regex(/^[0-9]+(\.[0-9]+)?\s*(KB|MB|GB|KiB|MiB|GiB)$/i, {
    message: "--memory-limit must be a size such as '512MB' or '2GB'",
  }),
  concurrentQueries: z.coerce.number().int().min(1).max(64, { message: '--concurrent-queries must be 1–64' }),
});

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Researcher: HTTP API and web page over a release bundle.')
    .requiredOption('--release <dir>', 'release bundle directory')
    .requiredOption('--tokens <file>', 'tokens file (hashes only; see `boldlink tokens add`)')
    .option('--port <n>', 'port to listen on (0: any free port)', '8080')
    .option('--host <address>', 'address to listen on; expose beyond this machine only behind TLS', '127.0.0.1')
    .option(
      '--request-log <file>',
      'append-only JSON-lines request log (default: requests.jsonl beside the tokens file)',
    )
    .option('--max-rows <n>', 'refuse results with more rows than this', String(DEFAULT_LIMITS.maxRows))
    .option('--max-bytes <n>', 'refuse results whose values take more bytes than this', String(DEFAULT_LIMITS.maxBytes))
    .option('--timeout <seconds>', 'stop a query running longer than this', String(DEFAULT_LIMITS.timeoutMs / 1000))
    .option(
      '--memory-limit <size>',
      "the query engine's memory limit (DuckDB memory_limit), for all queries",
      DEFAULT_MEMORY_LIMIT,
    )
    .option('--concurrent-queries <n>', 'SQL queries run at once (more wait, then get 503)', '2')
    .action(async (raw: unknown) => {
      const o = parseCommandOptions(options, raw, (_option, message) => message);
      const [{ ReleaseDatabase }, { ReleaseBundle }, { startServer }] = await Promise.all([
        import('../query/releaseDatabase.js'),
        import('../query/releaseBundle.js'),
        import('./server.js'),
      ]);
      const database = await ReleaseDatabase.open(await ReleaseBundle.open(o.release), { memoryLimit: o.memoryLimit });
      const running = await startServer({
        database,
        tokensFile: o.tokens,
        requestLogFile: o.requestLog ?? join(dirname(resolve(o.tokens)), 'requests.jsonl'),
        host: o.host,
        port: o.port,
        limits: { ...DEFAULT_LIMITS, maxRows: o.maxRows, maxBytes: o.maxBytes, timeoutMs: o.timeout * 1000 },
        concurrentQueries: o.concurrentQueries,
      });
      process.stdout.write(
        `boldlink serve: ${database.tables.size} tables from ${resolve(o.release)} at ${running.url}/\n`,
      );
      log().info({ url: running.url, tables: database.tables.size }, 'serving release');
      // Serve until SIGINT/SIGTERM, then close cleanly so the request log is flushed.
      await new Promise<void>((done) => {
        const stop = () => {
          void running.close().finally(() => {
            database.close();
            done();
          });
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}

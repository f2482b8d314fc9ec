import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => {
    const day = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(day.getTime()) && day.toISOString().slice(0, 10) === s;
  });

const metricsOptions = z
  .object({
    input: z.string().min(1),
    out: z.string().min(1),
    definitions: z.string().min(1).optional(),
    observationEnd: isoDate.optional(),
  })
  .strict();

export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('Secure environment: benefit spells, outflow, durable outflow, job quality and effects.')
    .requiredOption('--input <dir>', 'link output directory')
    .requiredOption('--out <dir>', 'output directory')
    .option('--definitions <file>', 'metric definitions file (default: examples/definitions.json)')
    .option(
      '--observation-end <date>',
      'YYYY-MM-DD; default: the definitions file, else the latest date in the linked data',
    )
    .action(async (raw: unknown) => {
      const o = parseCommandOptions(
        metricsOptions,
        raw,
        (option, message) =>
          `${option}: ${option === '--observation-end' ? 'expected a calendar date written YYYY-MM-DD' : message}`,
      );
      const { runMetrics } = await import('./runMetrics.js');
      const manifest = await runMetrics({
        input: o.input,
        out: o.out,
        ...(o.definitions !== undefined ? { definitionsFile: o.definitions } : {}),
        ...(o.observationEnd !== undefined ? { observationEnd: o.observationEnd } : {}),
      });
      const totals = manifest.summary.totals as Record<string, number> | undefined;
      process.stdout.write(
        `metrics written to ${o.out} (observation end ${String(manifest.summary.observationEnd)}; ` +
          `${totals?.spells ?? 0} spells, ${totals?.outflows ?? 0} outflows, ${totals?.to_work ?? 0} to work, ${totals?.durable ?? 0} durable of ${totals?.uncensored ?? 0} uncensored). ` +
          'spells.parquet stays in the secure environment; tables/ and effects.parquet go through boldlink release.\n',
      );
    });
}

import type { Command } from 'commander';
import { z } from 'zod';
import { loadDefects } from '../../examples/generator/defects.js';
import { generate } from '../../examples/generator/generate.js';
import { scaleName } from '../../examples/generator/scales.js';
import { UsageError } from '../core/errors.js';

const generateOptions = z.object({
  scale: scaleName,
  seed: z
    .string()
    .regex(/^\d{1,10}$/, 'a whole number from 0 to 4294967295')
    .transform(Number)
    .refine((n) => n <= 0xffffffff, 'at most 4294967295'),
  out: z.string().min(1),
  defects: z.string().min(1),
  persons: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .refine((n) => n >= 100, 'at least 100')
    .optional(),
  memoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size like '4GB'")
    .optional(),
});

export function registerGenerate(program: Command): void {
  program
    .command('generate')
    .description('Generate synthetic municipal exports and microdata with ground truth (no real data, ever).')
    .requiredOption('--scale <scale>', 'tiny (~5k persons), small (~50k), city (~650k) or national (~17M)')
    .requiredOption('--seed <n>', 'random seed; the same seed gives byte-identical files')
    .requiredOption('--out <dir>', 'output directory')
    .option('--defects <rates>', "dirty data: 'none', 'default', or a JSON file {\"rates\": {kind: rate}}", 'default')
    .option('--persons <n>', "override the scale's population size")
    .option('--memory-limit <size>', "DuckDB memory limit, e.g. '4GB' (default: env BOLDLINK_MEMORY_LIMIT or DuckDB's)")
    .action(async (raw: Record<string, unknown>) => {
      const parsed = generateOptions.safeParse(raw);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UsageError(
          `--${String(issue?.path[0] ?? 'option').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${issue?.message ?? 'invalid value'}`,
        );
      }
      const options = parsed.data;
      const result = await generate({
        scale: options.scale,
        seed: options.seed,
        outDir: options.out,
        defects: await loadDefects(options.defects),
        ...(options.persons === undefined ? {} : { persons: options.persons }),
        ...(options.memoryLimit === undefined ? {} : { memoryLimit: options.memoryLimit }),
      });
      process.stdout.write(
        `generated ${result.persons} persons, ${result.recipients} benefit recipients, ${result.spells} spells, ${result.jobs} jobs (observation end ${result.observationEnd}) in ${options.out}\n`,
      );
    });
}

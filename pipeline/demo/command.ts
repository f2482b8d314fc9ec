import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';
import { AuditFindingError } from '../core/errors.js';
import { DEMO_DEFAULTS } from './demoChain.js';
import { printSummary } from './summary.js';

const demoOptions = z.object({
  scale: z.enum(['tiny', 'small', 'city', 'national']),
  out: z.string().min(1),
  seed: z.coerce.number().int().nonnegative(),
  project: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore'),
});

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('Run the whole pipeline end to end on generated data, with a key per role in separate folders.')
    .option('--scale <scale>', 'tiny, small, city or national', DEMO_DEFAULTS.scale)
    .option('--out <dir>', 'workspace directory (replaced on every run)', 'demo-output')
    .option('--seed <n>', 'generator seed', String(DEMO_DEFAULTS.seed))
    .option('--project <id>', 'project id for the research pseudonyms', DEMO_DEFAULTS.project)
    .action(async (raw: Record<string, unknown>) => {
      const options = parseCommandOptions(demoOptions, raw);
      const { runDemo } = await import('./runDemo.js');
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const result = await runDemo(options, say);
      printSummary(result, say);
      if (!result.auditPassed)
        throw new AuditFindingError(
          `The privacy officer's audit of the demo run found problems; see ${result.workspace.auditReport}.`,
        );
    });
}

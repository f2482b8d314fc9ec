import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';

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
    .option('--scale <scale>', 'tiny, small, city or national', 'small')
    .option('--out <dir>', 'workspace directory (replaced on every run)', 'demo-output')
    .option('--seed <n>', 'generator seed', '20260101')
    .option('--project <id>', 'project id for the research pseudonyms', 'bold-participatiewet')
    .action(async (raw: Record<string, unknown>) => {
      const options = parseCommandOptions(demoOptions, raw);
      const { runDemo } = await import('./runDemo.js');
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const result = await runDemo(options, say);
      say('');
      say('Outflow by year (secure environment, before disclosure control):');
      say('  year  outflows  to work  durable  censored');
      for (const row of result.headline.byYear) {
        const pct = (x: number | null) => (x === null ? '   –' : `${(x * 100).toFixed(1)}%`.padStart(6));
        say(`  ${row.year}  ${String(row.outflows).padStart(8)}  ${pct(row.toWorkShare)}  ${pct(row.durableShare)}  ${String(row.censored).padStart(8)}`);
      }
      say('');
      say(`Release bundle:  ${result.workspace.release}`);
      say(`Report:          ${result.workspace.release}/report.html`);
      say(`Audit report:    ${result.workspace.auditReport}`);
      say(`Done in ${result.seconds.toFixed(1)} s.`);
    });
}

import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';

/** A project id goes into the project key (HKDF info) and the manifest: keep it a plain, readable name. */
const linkOptions = z.object({
  key: z.string().min(1),
  project: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      'letters, digits, dot, hyphen or underscore (at most 64), such as bold-2025',
    ),
  input: z
    .array(z.string().min(1))
    .min(2, "give the microdata holder's and at least one municipality's pseudonymize output"),
  out: z.string().min(1),
  memoryLimit: z
    .string()
    .regex(/^\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)$/i, "a size like '4GB'")
    .optional(),
});

export function registerLink(program: Command): void {
  program
    .command('link')
    .description('Trusted third party: link pseudonymized sources and replace source pseudonyms by project pseudonyms.')
    .requiredOption('--key <file>', 'the TTP key file (role ttp)')
    .requiredOption('--project <id>', 'project id; different projects get unlinkable pseudonyms')
    .requiredOption(
      '--input <dirs...>',
      "pseudonymize output directories: the microdata holder's and one per municipality",
    )
    .requiredOption('--out <dir>', 'output directory')
    .option(
      '--memory-limit <size>',
      "DuckDB memory limit, e.g. '4GB'; beyond it DuckDB spills to disk (default: env BOLDLINK_MEMORY_LIMIT or DuckDB's)",
    )
    .addHelpText(
      'after',
      '\nWrites clients, benefits, interventions, persons and jobs (Parquet, people known by RID only) and linkage-report.json;\nprints the linkage quality report (unique / multiple / none per source and file).\n\nExample:\n  boldlink link --key ttp.key --project bold-2025 --input pseudo/cbs pseudo/rotterdam pseudo/utrecht --out linked',
    )
    .action(async (raw: unknown) => {
      const { key, project, input, out, memoryLimit } = parseCommandOptions(
        linkOptions,
        raw,
        (option, message) => `${option}: ${message}.`,
      );
      // Loaded on use, so that every other subcommand starts without the link stage's modules.
      const [{ runLink }, { formatLinkageReport }] = await Promise.all([
        import('./link.js'),
        import('./linkageReport.js'),
      ]);
      const result = await runLink({
        keyFile: key,
        project,
        inputs: input,
        out,
        ...(memoryLimit === undefined ? {} : { memoryLimit }),
      });
      process.stdout.write(formatLinkageReport(result.report, result.reportPath));
    });
}

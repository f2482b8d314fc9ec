import { stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { z } from 'zod';
import { parseCommandOptions } from '../core/commandOptions.js';
import { AuditFindingError, UsageError } from '../core/errors.js';

const auditOptions = z.object({
  workspace: z.string().min(1),
  keys: z.string().min(1).optional(),
  format: z.enum(['text', 'json', 'html']),
});

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description("Privacy officer: check key separation, identifier leakage and the release's disclosure control.")
    .requiredOption('--workspace <dir>', 'folder holding the stage directories of a run')
    .option('--keys <dir>', 'folder with the key files, to check roles, permissions and fingerprints')
    .option('--format <format>', 'text, json or html', 'text')
    .addHelpText(
      'after',
      '\nPrints the report on stdout (text, JSON or a self-contained HTML page) and exits 1 when there is any finding, 0 when clean.\n\nExamples:\n  boldlink audit --workspace run --keys keys\n  boldlink audit --workspace run --keys keys --format html > audit.html',
    )
    .action(async (raw: unknown) => {
      const { workspace, keys, format } = parseCommandOptions(
        auditOptions,
        raw,
        (option, message) => `${option}: ${message} (use text, json or html).`,
      );
      const [{ runAudit }, { renderHtml }, { renderJson }, { renderText }] = await Promise.all([
        import('./audit.js'),
        import('./renderHtml.js'),
        import('./renderJson.js'),
        import('./renderText.js'),
      ]);
      await requireDirectory(workspace, '--workspace');
      if (keys !== undefined) await requireDirectory(keys, '--keys');
      const report = await runAudit({ workspace, ...(keys !== undefined ? { keysDir: keys } : {}) });
      const rendered =
        format === 'json' ? renderJson(report) : format === 'html' ? renderHtml(report) : renderText(report);
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(rendered, (error) => (error ? reject(error) : resolve())),
      );
      if (report.verdict === 'fail') {
        const rules = Object.entries(report.counts.byRule)
          .map(([rule, n]) => `${rule} ×${n}`)
          .join(', ');
        throw new AuditFindingError(
          `The audit of ${report.workspace} found ${report.counts.findings} problem(s): ${rules}. See the report for file, column and rule of each.`,
        );
      }
    });
}

async function requireDirectory(path: string, option: string): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) return;
  } catch {
    throw new UsageError(`${option} ${path} does not exist.`);
  }
  throw new UsageError(`${option} ${path} is not a directory.`);
}

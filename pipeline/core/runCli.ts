import { Command, CommanderError } from 'commander';
import { registerCommands } from '../commands.js';
import { BoldlinkError, DataError, formatIssue, type ExitCode } from './errors.js';
import { configureLogger } from './log.js';
import { scrubIdentifiers } from './scrubIdentifiers.js';
import { abandonOpenOutputs } from './stageOutput.js';
import { toolVersion } from './toolVersion.js';

const MAX_ISSUES_SHOWN = 20;

export function buildProgram(): Command {
  const program = new Command('boldlink')
    .description(
      'Pseudonymize, link and analyse social-assistance (bijstand) records with employment microdata, and release only disclosure-controlled tables.',
    )
    .version(toolVersion())
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug (env BOLDLINK_LOG_LEVEL)')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ sortSubcommands: false })
    .exitOverride()
    .hook('preAction', (command) => {
      const level = command.optsWithGlobals<{ logLevel?: string }>().logLevel;
      if (level !== undefined) configureLogger({ level });
    });
  registerCommands(program);
  // Every subcommand reports usage errors through exitOverride too.
  for (const command of allCommands(program)) command.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}

/** Run the CLI and return its exit code: 0 ok, 1 data/validation/audit finding, 2 usage. */
export async function runCli(argv: readonly string[]): Promise<ExitCode> {
  const onSignal = (signal: NodeJS.Signals) => {
    void abandonOpenOutputs().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const program = buildProgram();
    if (argv.length === 0) {
      program.outputHelp();
      return 2;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    await abandonOpenOutputs();
    return reportError(error);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function reportError(error: unknown): ExitCode {
  if (error instanceof CommanderError) {
    if (
      error.code === 'commander.helpDisplayed' ||
      error.code === 'commander.version' ||
      error.code === 'commander.help'
    )
      return 0;
    return 2; // commander has already printed what was wrong
  }
  if (error instanceof BoldlinkError) {
    const lines = [`boldlink: ${error.message} [${error.code}]`];
    if (error instanceof DataError && error.issues.length > 1) {
      for (const issue of error.issues.slice(0, MAX_ISSUES_SHOWN)) lines.push(`  - ${formatIssue(issue)}`);
      if (error.issues.length > MAX_ISSUES_SHOWN) lines.push(`  … and ${error.issues.length - MAX_ISSUES_SHOWN} more`);
    }
    process.stderr.write(`${scrubIdentifiers(lines.join('\n'))}\n`);
    return error.exitCode;
  }
  if (isDiskFull(error)) {
    const path = (error as NodeJS.ErrnoException).path;
    process.stderr.write(
      `${scrubIdentifiers(`boldlink: The disk is full${path === undefined ? '' : ` while writing ${path}`}; free space (or point --out/TMPDIR elsewhere) and rerun. Nothing partial was kept. [DISK_FULL]`)}\n`,
    );
    return 1;
  }
  const access = fileAccessProblem(error);
  if (access !== undefined) {
    process.stderr.write(`${scrubIdentifiers(`boldlink: ${access} Nothing partial was kept. [FILE_ACCESS]`)}\n`);
    return 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${scrubIdentifiers(`boldlink: internal error: ${message}. Nothing partial was kept. Please report this with BOLDLINK_LOG_LEVEL=debug output.`)}\n`,
  );
  if (process.env.BOLDLINK_LOG_LEVEL === 'debug' && error instanceof Error && error.stack !== undefined) {
    process.stderr.write(`${scrubIdentifiers(error.stack)}\n`);
  }
  return 1;
}

const ACCESS_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'does not exist',
  EISDIR: 'is a folder, not a file',
  ENOTDIR: 'is not a folder (or a part of its path is a file)',
  EACCES: 'cannot be read or written with your permissions',
  EPERM: 'cannot be read or written with your permissions',
};

/**
 * A file named on the command line that is missing, a folder, or unreadable,
 * reaching here as a bare Node error: say which path, not "internal error".
 */
function fileAccessProblem(error: unknown): string | undefined {
  const e = error as NodeJS.ErrnoException | undefined;
  if (!(error instanceof Error) || typeof e?.code !== 'string' || typeof e.path !== 'string') return undefined;
  const what = ACCESS_PROBLEMS[e.code];
  return what === undefined ? undefined : `${e.path} ${what} (${e.code}); check the path and rerun.`;
}

/** Out of space, from Node (ENOSPC/EDQUOT) or from DuckDB writing Parquet or spill files (its own message). */
function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  const message = error instanceof Error ? error.message : String(error);
  return /no space left on device|disk quota exceeded/i.test(message);
}

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
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
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
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(
    `${scrubIdentifiers(`boldlink: internal error: ${message}. Nothing partial was kept. Please report this with BOLDLINK_LOG_LEVEL=debug output.`)}\n`,
  );
  if (process.env['BOLDLINK_LOG_LEVEL'] === 'debug' && error instanceof Error && error.stack !== undefined) {
    process.stderr.write(`${scrubIdentifiers(error.stack)}\n`);
  }
  return 1;
}

import type { Command } from 'commander';
import { registerAudit } from './audit/command.js';
import { registerDemo } from './demo/command.js';
import { registerGenerate } from './generate/command.js';
import { registerKeys } from './keys/command.js';
import { registerLink } from './link/command.js';
import { registerMetrics } from './metrics/command.js';
import { registerProtect } from './protect/command.js';
import { registerPseudonymize } from './pseudonymize/command.js';
import { registerQuery } from './query/command.js';
import { registerRelease } from './release/command.js';
import { registerServe } from './serve/command.js';
import { registerTokens } from './tokens/command.js';

/** The subcommands of docs/design.md, "Fixed interfaces", in pipeline order. */
export function registerCommands(program: Command): void {
  registerGenerate(program);
  registerKeys(program);
  registerPseudonymize(program);
  registerLink(program);
  registerMetrics(program);
  registerRelease(program);
  registerProtect(program);
  registerAudit(program);
  registerQuery(program);
  registerTokens(program);
  registerServe(program);
  registerDemo(program);
}

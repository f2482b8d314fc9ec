import type { z } from 'zod';
import { UsageError } from './errors.js';

/**
 * Parse a subcommand's options (as commander hands them over) with its zod
 * schema, once, at the edge. The first problem becomes a usage error (exit 2)
 * naming the option as the user typed it.
 */
export function parseCommandOptions<T extends z.ZodType>(
  schema: T,
  raw: unknown,
  describe?: (option: string, message: string) => string,
): z.infer<T> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const option = `--${String(issue?.path[0] ?? 'option').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const message = issue?.message ?? 'invalid';
  throw new UsageError(describe?.(option, message) ?? `${option}: ${message}`);
}

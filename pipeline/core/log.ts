import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { scrubIdentifiers } from './scrubIdentifiers.js';

/**
 * Field names that carry identifiers or key material anywhere in a log object.
 * pino removes them before serialising; the identifier scrubber then checks
 * the serialised line for values that slipped in under another name.
 */
export const IDENTIFIER_FIELDS = [
  'bsn',
  'bsn_raw',
  'canonicalBsn',
  'p1',
  'f1',
  'rid',
  'pseudonym',
  'pseudonyms',
  'key',
  'keyBytes',
  'secret',
  'token',
  'authorization',
  'password',
  'birth_date',
  'postcode',
  'house_number',
] as const;

export function redactPaths(fields: readonly string[]): string[] {
  return fields.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*[*].${field}`]);
}

export interface LoggerOptions {
  readonly level?: string;
  /** Extra field names to redact on top of IDENTIFIER_FIELDS. */
  readonly redact?: readonly string[];
  /** Human-readable lines instead of JSON; defaults to "stderr is a terminal". */
  readonly pretty?: boolean;
  /** Where lines go; defaults to stderr. Tests pass a collecting stream. */
  readonly destination?: NodeJS.WritableStream | { write(line: string): void };
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.BOLDLINK_LOG_LEVEL ?? 'info';
  const prettyWanted = options.pretty ?? (process.stderr.isTTY === true && process.env.CI === undefined);
  const destination =
    options.destination ??
    (prettyWanted
      ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' })
      : pino.destination({ fd: 2, sync: true }));
  return pino(
    {
      level,
      base: { app: 'boldlink' },
      redact: { paths: redactPaths([...IDENTIFIER_FIELDS, ...(options.redact ?? [])]), censor: '[redacted]' },
      hooks: { streamWrite: scrubIdentifiers },
      serializers: { err: serializeError },
    },
    destination as pino.DestinationStream,
  );
}

/** Errors are logged by code and (scrubbed) message only; stacks only at debug level via `stack`. */
function serializeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { type: error.name, code, message: scrubIdentifiers(error.message) };
  }
  return { message: scrubIdentifiers(String(error)) };
}

let shared: Logger | undefined;

/** The process-wide logger. The CLI configures it once; library code just calls log(). */
export function log(): Logger {
  shared ??= createLogger();
  return shared;
}

export function configureLogger(options: LoggerOptions): Logger {
  shared = createLogger(options);
  return shared;
}

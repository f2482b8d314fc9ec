/**
 * Every error code boldlink prints (`boldlink: … [CODE]`), by the error class that carries it. Scripts and other
 * organisations' tools match these strings, so a code never changes; a new one is added here and to docs/errors.md,
 * which says what each means and what a steward does about it (test/errorCodes.test.ts holds the two equal).
 */
export const ERROR_CODES = {
  /** UsageError: wrong command-line use (exit 2). */
  usage: ['USAGE'],
  /** DataError: input that cannot be used, each issue naming file, row, column and rule (exit 1). */
  data: [
    'DEFECTS_INVALID',
    'DEFINITIONS_INVALID',
    'INPUT_AMBIGUOUS',
    'INPUT_CORRUPT',
    'INPUT_EMPTY',
    'INPUT_ENCODING',
    'INPUT_FORMAT',
    'INPUT_HEADER',
    'INPUT_INCOMPLETE',
    'INPUT_MISSING',
    'INPUT_SCHEMA',
    'INPUT_UNREADABLE',
    'INPUT_UNRECOGNISED',
    'LINK_INPUT_COLUMNS',
    'LINK_INPUT_ROLE',
    'LINK_INPUT_SOURCE',
    'LINK_OUT_OF_MEMORY',
    'MAPPING_INVALID',
    'MAPPING_MISSING',
    'PROTECT_INPUT',
    'REFERENCE_INCOMPLETE',
    'REFERENCE_INVALID',
    'RELEASE_CATALOGUE',
    'RELEASE_REFUSED',
    'RELEASE_TABLE',
    'RULES_INVALID',
  ],
  /** ManifestError: a stage directory whose manifest is missing, malformed or does not match its files (exit 1). */
  manifest: ['MANIFEST_MISSING', 'MANIFEST_INVALID', 'MANIFEST_MISMATCH', 'MANIFEST_STAGE'],
  /** KeyError: key files of the wrong format, role or permissions, or keys that must differ and do not (exit 1). */
  key: ['KEY_MISSING', 'KEY_INVALID', 'KEY_PERMISSIONS', 'KEY_ROLE', 'KEY_EXISTS', 'KEY_MISMATCH', 'KEY_REUSED'],
  /** LockError and OutputError: the output could not be written; nothing partial was kept (exit 1). */
  output: ['OUTPUT_LOCKED', 'OUTPUT_WRITE', 'OUTPUT_EXISTS', 'OUTPUT_IS_INPUT', 'DISK_FULL'],
  /** A file named on the command line that is missing or unreadable, met as a bare system error (exit 1). */
  fileAccess: ['FILE_ACCESS'],
  /** SolverError: the LP solver stopped without an answer during disclosure control or its check (exit 1). */
  solver: ['SOLVER_FAILED'],
  /** AuditFindingError: the privacy officer's audit found something (exit 1). */
  audit: ['AUDIT_FINDINGS'],
  /** QueryRefusedError, QueryFailedError (exit 2), QueryLimitError and ReleaseBundleError (exit 1). */
  query: [
    'QUERY_REFUSED',
    'QUERY_FAILED',
    'RESULT_TOO_LARGE',
    'VALUE_TOO_LARGE',
    'QUERY_MEMORY',
    'QUERY_TIMEOUT',
    'QUERY_BUSY',
  ],
  /** TokensFileError: the researchers' tokens file (exit 1). */
  tokens: ['TOKENS_MISSING', 'TOKENS_INVALID', 'TOKENS_PERMISSIONS'],
  /** DemoStageError: a step of `boldlink demo` failed (its own exit code). */
  demo: ['DEMO_STAGE_FAILED'],
} as const;

type CodesOf<K extends keyof typeof ERROR_CODES> = (typeof ERROR_CODES)[K][number];

export type UsageErrorCode = CodesOf<'usage'>;
export type DataErrorCode = CodesOf<'data'>;
export type ManifestErrorCode = CodesOf<'manifest'>;
export type KeyErrorCode = CodesOf<'key'>;
export type OutputErrorCode = Exclude<CodesOf<'output'>, 'OUTPUT_LOCKED'>;
export type ErrorCode = CodesOf<keyof typeof ERROR_CODES>;

/** Every code once (RELEASE_CATALOGUE and RELEASE_TABLE serve both the release and the query service). */
export const ALL_ERROR_CODES: readonly ErrorCode[] = [...new Set(Object.values(ERROR_CODES).flat())];

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { projectPath } from '../../pipeline/core/projectPath.js';
import { HOLDER_SOURCE, MUNICIPALITIES } from '../../pipeline/demo/workspace.js';
import { runInProcess, type InProcessResult } from './inProcessCli.js';

/**
 * The whole chain of docs/design.md ("Stages and their outputs") on a small generated population, each step
 * through `runCli` inside the test process (the same code the binary runs,
 * without a process start per step): generate → keys → pseudonymize (four
 * gemeenten and the holder) → link → metrics → release. Every step's stdout,
 * stderr and log lines are kept, so a test can scan them.
 */
export interface ChainOptions {
  readonly root: string;
  readonly seed?: number;
  readonly persons?: number;
  readonly project?: string;
  /** Reuse these key files instead of making new ones (determinism needs the same keys). */
  readonly keys?: { readonly source: string; readonly ttp: string };
  /** Stop after this step. */
  readonly until?: ChainStep;
  readonly logLevel?: string;
}

export const CHAIN_STEPS = ['generate', 'keys', 'pseudonymize', 'link', 'metrics', 'release'] as const;
export type ChainStep = (typeof CHAIN_STEPS)[number];

export interface ChainRun {
  readonly root: string;
  readonly raw: string;
  readonly sourceKey: string;
  readonly ttpKey: string;
  readonly pseudonymized: Readonly<Record<string, string>>;
  readonly linked: string;
  readonly metrics: string;
  readonly release: string;
  /** Every step run, in order, with what it printed and logged. */
  readonly steps: readonly { readonly args: readonly string[]; readonly result: InProcessResult }[];
}

export const DEFAULT_SEED = 20260101;
export const DEFAULT_PERSONS = 1500;

export function chainPaths(root: string, keys?: { source: string; ttp: string }): Omit<ChainRun, 'steps' | 'root'> {
  const sources = [...MUNICIPALITIES, HOLDER_SOURCE];
  return {
    raw: join(root, 'raw'),
    sourceKey: keys?.source ?? join(root, 'keys', 'source', 'k_src.key'),
    ttpKey: keys?.ttp ?? join(root, 'keys', 'ttp', 'k_ttp.key'),
    pseudonymized: Object.fromEntries(sources.map((s) => [s, join(root, 'workspace', 'sources', s, 'pseudonymized')])),
    linked: join(root, 'workspace', 'ttp', 'linked'),
    metrics: join(root, 'workspace', 'secure', 'metrics'),
    release: join(root, 'workspace', 'release'),
  };
}

/** The arguments of each step, as the demo gives them. */
export function chainCommands(
  root: string,
  options: Omit<ChainOptions, 'root'> = {},
): { step: ChainStep; args: string[] }[] {
  const p = chainPaths(root, options.keys);
  const mapping = projectPath('examples/mappings/gemeente.json');
  const commands: { step: ChainStep; args: string[] }[] = [
    {
      step: 'generate',
      args: [
        'generate',
        '--scale',
        'tiny',
        '--persons',
        String(options.persons ?? DEFAULT_PERSONS),
        '--seed',
        String(options.seed ?? DEFAULT_SEED),
        '--out',
        p.raw,
      ],
    },
  ];
  if (options.keys === undefined) {
    commands.push({
      step: 'keys',
      args: ['keys', 'new', '--role', 'source', '--key-id', 'test-src', '--out', p.sourceKey],
    });
    commands.push({ step: 'keys', args: ['keys', 'new', '--role', 'ttp', '--key-id', 'test-ttp', '--out', p.ttpKey] });
  }
  for (const m of MUNICIPALITIES) {
    const exports = ['clienten.csv', 'uitkeringen.csv', 'trajecten.csv'].map((f) => join(p.raw, 'gemeente', m, f));
    commands.push({
      step: 'pseudonymize',
      args: [
        'pseudonymize',
        '--key',
        p.sourceKey,
        '--source',
        m,
        '--mapping',
        mapping,
        '--input',
        ...exports,
        '--out',
        p.pseudonymized[m]!,
      ],
    });
  }
  const holder = ['persons.parquet', 'jobs.parquet'].map((f) => join(p.raw, 'microdata', f));
  commands.push({
    step: 'pseudonymize',
    args: [
      'pseudonymize',
      '--key',
      p.sourceKey,
      '--source',
      HOLDER_SOURCE,
      '--input',
      ...holder,
      '--out',
      p.pseudonymized[HOLDER_SOURCE]!,
    ],
  });
  commands.push({
    step: 'link',
    args: [
      'link',
      '--key',
      p.ttpKey,
      '--project',
      options.project ?? 'test-project',
      '--input',
      ...MUNICIPALITIES.map((m) => p.pseudonymized[m]!),
      p.pseudonymized[HOLDER_SOURCE]!,
      '--out',
      p.linked,
    ],
  });
  commands.push({ step: 'metrics', args: ['metrics', '--input', p.linked, '--out', p.metrics] });
  commands.push({ step: 'release', args: ['release', '--input', p.metrics, '--out', p.release] });
  const last = CHAIN_STEPS.indexOf(options.until ?? 'release');
  return commands.filter((c) => CHAIN_STEPS.indexOf(c.step) <= last);
}

export async function runChain(options: ChainOptions): Promise<ChainRun> {
  const paths = chainPaths(options.root, options.keys);
  await mkdir(join(options.root, 'keys', 'source'), { recursive: true, mode: 0o700 });
  await mkdir(join(options.root, 'keys', 'ttp'), { recursive: true, mode: 0o700 });
  const steps: { args: readonly string[]; result: InProcessResult }[] = [];
  for (const { args } of chainCommands(options.root, options)) {
    const result = await runInProcess(args, { logLevel: options.logLevel ?? 'info' });
    steps.push({ args, result });
    if (result.code !== 0)
      throw new Error(
        `boldlink ${args.slice(0, 1).join(' ')} failed (exit ${result.code}):\n${result.stderr.slice(-3000)}`,
      );
  }
  return { root: options.root, ...paths, steps };
}

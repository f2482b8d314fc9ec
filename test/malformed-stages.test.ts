import { appendFile, cp, mkdir, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { HOLDER_SOURCE } from '../pipeline/demo/workspace.js';
import { runInProcess } from './support/inProcessCli.js';
import { expectNothingLeftBeside, STACK_LINE } from './support/stageChecks.js';
import { runChain, type ChainRun } from './support/tinyChain.js';

/**
 * Issue #12: bad input to the later stages — tampered, truncated or wrong
 * stage directories, definitions and rules files with unknown keys, bad
 * protect tables. Each is refused with exit 1 (data) or 2 (usage), a message
 * naming the file, no stack trace, and nothing written.
 */
interface StageCase {
  readonly name: string;
  /** Prepare the case in `dir` and return the command line. */
  readonly prepare: (dir: string, run: ChainRun) => Promise<string[]>;
  readonly exit: 1 | 2;
  readonly code?: string;
  readonly mentions: readonly string[];
}

const copyStage = async (from: string, dir: string, name: string) => {
  const to = join(dir, name);
  await cp(from, to, { recursive: true });
  return to;
};
const flipByte = async (file: string, at = 100) => {
  const bytes = await readFile(file);
  bytes[at] = bytes[at]! ^ 0xff;
  await writeFile(file, bytes);
};
/** Overwrite bytes in the middle of a Parquet file (a data page; the footer at the end stays intact). */
const damageMiddle = async (file: string) => {
  const bytes = await readFile(file);
  const middle = Math.floor(bytes.length / 2);
  for (let i = middle; i < Math.min(middle + 64, bytes.length - 16); i++) bytes[i] = 0xff - bytes[i]!;
  await writeFile(file, bytes);
};
const linkArgs = (run: ChainRun, rotterdam: string, out: string) => [
  'link',
  '--key',
  run.ttpKey,
  '--project',
  'test-project',
  '--input',
  rotterdam,
  run.pseudonymized[HOLDER_SOURCE]!,
  '--out',
  out,
];
const definitionsWith = async (dir: string, change: (d: Record<string, unknown>) => void) => {
  const d = JSON.parse(await readFile(projectPath('examples/definitions.json'), 'utf8')) as Record<string, unknown>;
  change(d);
  await writeFile(join(dir, 'definitions.json'), JSON.stringify(d));
  return join(dir, 'definitions.json');
};
const rulesWith = async (dir: string, change: (d: Record<string, unknown>) => void) => {
  const d = JSON.parse(await readFile(projectPath('examples/rules.json'), 'utf8')) as Record<string, unknown>;
  change(d);
  await writeFile(join(dir, 'rules.json'), JSON.stringify(d));
  return join(dir, 'rules.json');
};
const PROTECT_TABLE = [
  'gemeente,wijk,aantal',
  'rotterdam,Charlois,30',
  'rotterdam,Noord,25',
  'utrecht,Oost,18',
  'utrecht,West,21',
  '',
].join('\n');

const CASES: readonly StageCase[] = [
  {
    name: 'link: a pseudonymize output with a changed Parquet file',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['clients.parquet'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      await flipByte(join(r, 'clients.parquet'));
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  // A corrupt data page behind an intact footer would fail deep inside DuckDB; the manifest's sha256 catches it first, by name.
  {
    name: 'link: a pseudonymize output whose jobs.parquet has a damaged middle page',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['jobs.parquet', 'sha256'],
    prepare: async (dir, run) => {
      const h = await copyStage(run.pseudonymized[HOLDER_SOURCE]!, dir, 'holder');
      await damageMiddle(join(h, 'jobs.parquet'));
      return [
        'link',
        '--key',
        run.ttpKey,
        '--project',
        'test-project',
        '--input',
        run.pseudonymized.rotterdam!,
        h,
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'metrics: a linked output whose benefits.parquet has a damaged middle page',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['benefits.parquet', 'sha256'],
    prepare: async (dir, run) => {
      const l = await copyStage(run.linked, dir, 'linked');
      await damageMiddle(join(l, 'benefits.parquet'));
      return ['metrics', '--input', l, '--out', join(dir, 'out')];
    },
  },
  {
    name: 'release: a metrics output whose spells.parquet has a damaged middle page',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['spells.parquet', 'sha256'],
    prepare: async (dir, run) => {
      const m = await copyStage(run.metrics, dir, 'metrics');
      await damageMiddle(join(m, 'spells.parquet'));
      return ['release', '--input', m, '--out', join(dir, 'out')];
    },
  },
  {
    name: 'link: a pseudonymize output with a truncated Parquet file',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['benefits.parquet'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      await truncate(join(r, 'benefits.parquet'), 200);
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  {
    name: 'link: a pseudonymize output without its manifest',
    exit: 1,
    code: 'MANIFEST_MISSING',
    mentions: ['manifest.json'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      await rm(join(r, 'manifest.json'));
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  {
    name: 'link: a truncated manifest',
    exit: 1,
    code: 'MANIFEST_INVALID',
    mentions: ['manifest.json'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      await truncate(join(r, 'manifest.json'), 300);
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  {
    name: 'link: a manifest with an unknown field',
    exit: 1,
    code: 'MANIFEST_INVALID',
    mentions: ['manifest.json'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      const m = JSON.parse(await readFile(join(r, 'manifest.json'), 'utf8')) as Record<string, unknown>;
      await writeFile(join(r, 'manifest.json'), JSON.stringify({ ...m, approvedBy: 'someone' }));
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  {
    name: 'link: a file slipped into a pseudonymize output',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['extra.parquet'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      await cp(join(r, 'clients.parquet'), join(r, 'extra.parquet'));
      return linkArgs(run, r, join(dir, 'out'));
    },
  },
  {
    name: 'link: a metrics output given as a source',
    exit: 1,
    code: 'MANIFEST_STAGE',
    mentions: ['metrics'],
    prepare: async (dir, run) => linkArgs(run, run.metrics, join(dir, 'out')),
  },
  {
    name: 'link: a folder that is no stage output at all',
    exit: 1,
    code: 'MANIFEST_MISSING',
    mentions: ['gemeente'],
    prepare: async (dir, run) => linkArgs(run, join(run.raw, 'gemeente'), join(dir, 'out')),
  },
  {
    name: 'link: a source key instead of the TTP key',
    exit: 1,
    code: 'KEY_ROLE',
    mentions: ['k_src.key'],
    prepare: async (dir, run) => [
      'link',
      '--key',
      run.sourceKey,
      '--project',
      'p',
      '--input',
      run.pseudonymized.rotterdam!,
      run.pseudonymized[HOLDER_SOURCE]!,
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'link: a project id with a slash',
    exit: 2,
    code: 'USAGE',
    mentions: ['--project'],
    prepare: async (dir, run) => [
      'link',
      '--key',
      run.ttpKey,
      '--project',
      '../other',
      '--input',
      run.pseudonymized.rotterdam!,
      run.pseudonymized[HOLDER_SOURCE]!,
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'link: --out is one of its own inputs',
    exit: 1,
    code: 'OUTPUT_IS_INPUT',
    mentions: ['rotterdam'],
    prepare: async (dir, run) => {
      const r = await copyStage(run.pseudonymized.rotterdam!, dir, 'rotterdam');
      return linkArgs(run, r, r);
    },
  },
  {
    name: 'metrics: --out is its own input',
    exit: 1,
    code: 'OUTPUT_IS_INPUT',
    mentions: ['linked'],
    prepare: async (dir, run) => {
      const l = await copyStage(run.linked, dir, 'linked');
      return ['metrics', '--input', l, '--out', l];
    },
  },
  {
    name: 'metrics: a linked output with a changed Parquet file',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['jobs.parquet'],
    prepare: async (dir, run) => {
      const l = await copyStage(run.linked, dir, 'linked');
      await flipByte(join(l, 'jobs.parquet'), 50);
      return ['metrics', '--input', l, '--out', join(dir, 'out')];
    },
  },
  {
    name: 'metrics: a pseudonymize output (P1 data) given as input',
    exit: 1,
    code: 'MANIFEST_STAGE',
    mentions: ['pseudonymize'],
    prepare: async (dir, run) => ['metrics', '--input', run.pseudonymized.rotterdam!, '--out', join(dir, 'out')],
  },
  {
    name: 'metrics: a definitions file with an unknown key',
    exit: 1,
    code: 'DEFINITIONS_INVALID',
    mentions: ['definitions.json', 'durableMonthz'],
    prepare: async (dir, run) => [
      'metrics',
      '--input',
      run.linked,
      '--definitions',
      await definitionsWith(dir, (d) => (d.durableMonthz = 12)),
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'metrics: a definitions file that is not JSON',
    exit: 1,
    code: 'DEFINITIONS_INVALID',
    mentions: ['definitions.json'],
    prepare: async (dir, run) => {
      await writeFile(join(dir, 'definitions.json'), '{ "version": ');
      return [
        'metrics',
        '--input',
        run.linked,
        '--definitions',
        join(dir, 'definitions.json'),
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'metrics: a definitions file that does not exist',
    exit: 1,
    code: 'DEFINITIONS_INVALID',
    mentions: ['nope.json'],
    prepare: async (dir, run) => [
      'metrics',
      '--input',
      run.linked,
      '--definitions',
      join(dir, 'nope.json'),
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'metrics: --observation-end 2020-13-01',
    exit: 2,
    code: 'USAGE',
    mentions: ['--observation-end'],
    prepare: async (dir, run) => [
      'metrics',
      '--input',
      run.linked,
      '--observation-end',
      '2020-13-01',
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'metrics: --observation-end 31-02-2020',
    exit: 2,
    code: 'USAGE',
    mentions: ['--observation-end'],
    prepare: async (dir, run) => [
      'metrics',
      '--input',
      run.linked,
      '--observation-end',
      '31-02-2020',
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'release: a rules file with an unknown key',
    exit: 1,
    code: 'RULES_INVALID',
    mentions: ['rules.json', 'minCountt'],
    prepare: async (dir, run) => [
      'release',
      '--input',
      run.metrics,
      '--rules',
      await rulesWith(dir, (r) => (r.minCountt = 5)),
      '--out',
      join(dir, 'out'),
    ],
  },
  {
    name: 'release: a rules file that is not JSON',
    exit: 1,
    code: 'RULES_INVALID',
    mentions: ['rules.json'],
    prepare: async (dir, run) => {
      await writeFile(join(dir, 'rules.json'), 'frequency: 10');
      return ['release', '--input', run.metrics, '--rules', join(dir, 'rules.json'), '--out', join(dir, 'out')];
    },
  },
  {
    name: 'release: a metrics output with a changed table',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['outflow_by_year_sex.parquet'],
    prepare: async (dir, run) => {
      const m = await copyStage(run.metrics, dir, 'metrics');
      await flipByte(join(m, 'tables', 'outflow_by_year_sex.parquet'), 80);
      return ['release', '--input', m, '--out', join(dir, 'out')];
    },
  },
  {
    name: 'release: a metrics output whose tables.json was edited',
    exit: 1,
    code: 'MANIFEST_MISMATCH',
    mentions: ['tables.json'],
    prepare: async (dir, run) => {
      const m = await copyStage(run.metrics, dir, 'metrics');
      await appendFile(join(m, 'tables.json'), ' ');
      return ['release', '--input', m, '--out', join(dir, 'out')];
    },
  },
  {
    name: 'release: a linked output (per-person data) given as input',
    exit: 1,
    code: 'MANIFEST_STAGE',
    mentions: ['link'],
    prepare: async (dir, run) => ['release', '--input', run.linked, '--out', join(dir, 'out')],
  },
  {
    name: 'protect: a rules file with an unknown key',
    exit: 1,
    code: 'RULES_INVALID',
    mentions: ['rules.json'],
    prepare: async (dir) => {
      await writeFile(join(dir, 'wijken.csv'), PROTECT_TABLE);
      return [
        'protect',
        '--input',
        join(dir, 'wijken.csv'),
        '--dimensions',
        'gemeente,wijk',
        '--count',
        'aantal',
        '--rules',
        await rulesWith(dir, (r) => (r.roundTo = 5)),
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'protect: a negative count',
    exit: 1,
    code: 'PROTECT_INPUT',
    mentions: ['wijken.csv', 'aantal'],
    prepare: async (dir) => {
      await writeFile(join(dir, 'wijken.csv'), PROTECT_TABLE.replace('25', '-25'));
      return [
        'protect',
        '--input',
        join(dir, 'wijken.csv'),
        '--dimensions',
        'gemeente,wijk',
        '--count',
        'aantal',
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'protect: a count column missing',
    exit: 1,
    code: 'PROTECT_INPUT',
    mentions: ['wijken.csv', 'aantal'],
    prepare: async (dir) => {
      await writeFile(join(dir, 'wijken.csv'), PROTECT_TABLE.replace('aantal', 'n'));
      return [
        'protect',
        '--input',
        join(dir, 'wijken.csv'),
        '--dimensions',
        'gemeente,wijk',
        '--count',
        'aantal',
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'protect: a margin row (Total) among the inner cells',
    exit: 1,
    code: 'PROTECT_INPUT',
    mentions: ['wijken.csv', 'Total'],
    prepare: async (dir) => {
      await writeFile(join(dir, 'wijken.csv'), `${PROTECT_TABLE}rotterdam,Total,55\n`);
      return [
        'protect',
        '--input',
        join(dir, 'wijken.csv'),
        '--dimensions',
        'gemeente,wijk',
        '--count',
        'aantal',
        '--out',
        join(dir, 'out'),
      ];
    },
  },
  {
    name: 'protect: a truncated Parquet table',
    exit: 1,
    code: 'PROTECT_INPUT',
    mentions: ['wijken.parquet'],
    prepare: async (dir, run) => {
      await cp(join(run.metrics, 'tables', 'outflow_by_year_sex.parquet'), join(dir, 'wijken.parquet'));
      await truncate(join(dir, 'wijken.parquet'), 300);
      return [
        'protect',
        '--input',
        join(dir, 'wijken.parquet'),
        '--dimensions',
        'sex',
        '--count',
        'spells',
        '--out',
        join(dir, 'out'),
      ];
    },
  },
];

describe('later stages refuse tampered or malformed input clearly', { timeout: 60_000 }, () => {
  let root: string;
  let run: ChainRun;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'boldlink-malformed-stages-'));
    run = await runChain({ root: join(root, 'chain'), persons: 400, until: 'metrics' });
  }, 120_000);
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s', async (_name, testCase, index) => {
    const dir = join(root, `case-${index}`);
    await mkdir(dir);
    const args = await testCase.prepare(dir, run);
    const result = await runInProcess(args);
    expect(result.stderr).not.toMatch(STACK_LINE);
    expect(result.stderr).not.toContain('internal error');
    expect(result.code, result.stderr).toBe(testCase.exit);
    if (testCase.code !== undefined) expect(result.stderr).toContain(`[${testCase.code}]`);
    for (const m of testCase.mentions) expect(result.stderr).toContain(m);
    await expectNothingLeftBeside(join(dir, 'out'));
  });
});

import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPath } from '../pipeline/core/projectPath.js';
import { definitionsVersion, metricDefinitions } from '../schemas/definitions.js';
import { manifest as manifestSchema } from '../schemas/manifest.js';
import { runBoldlink } from './support/cli.js';
import { rid, writeLinkOutput, type LinkFixture } from './metricsLinkFixture.js';

/** `boldlink metrics` as a steward runs it: options, errors with exit codes, quarantine, manifest. */

const fixture: LinkFixture = {
  clients: [{ person: 'a' }, { person: 'b' }],
  persons: [
    { person: 'a', birth_month: '1980-01-01' },
    { person: 'b', birth_month: '1990-05-01' },
  ],
  benefits: [
    { person: 'a', start: '2019-01-01', end: '2019-06-30' },
    { person: 'b', start: '2020-01-01', end: null },
    // Row 3 of benefits.parquet (rows are sorted by rid, then dates): ends before it starts.
    { person: 'b', start: '2019-05-01', end: '2019-04-01' },
  ],
  jobs: [{ person: 'a', start: '2019-07-01', end: null }],
  interventions: null,
};

let root: string;
let linked: string;
const defaults = projectPath('examples', 'definitions.json');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-metrics-cli-'));
  linked = join(root, 'linked');
  await writeLinkOutput(linked, fixture);
}, 30_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink metrics', () => {
  it('measures a link output, prints where the output is, and sets bad rows apart in a quarantine beside it', async () => {
    const out = join(root, 'metrics');
    const result = await runBoldlink(['metrics', '--input', linked, '--out', out, '--observation-end', '2021-12-31']);
    expect(result.stderr).not.toContain(rid('a'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`metrics written to ${out}`);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.stage).toBe('metrics');
    expect(manifest.accounting.find((a) => a.scope === 'benefits.parquet')).toEqual({
      scope: 'benefits.parquet',
      rowsIn: 3,
      rowsOut: 2,
      rowsQuarantined: 1,
      quarantinedByReason: { 'end_date.before_start': 1 },
    });
    const quarantine = await readFile(join(`${out}.quarantine`, 'quarantine.csv'), 'utf8');
    expect(quarantine.split('\n')[0]).toBe('file,row,column,rule,message');
    expect(quarantine).toMatch(/^benefits\.parquet,\d+,end_date,end_date\.before_start,/m);
    expect(quarantine).not.toContain(rid('b'));
    expect((await stat(join(`${out}.quarantine`, 'quarantine.csv'))).mode & 0o077).toBe(0);
    expect(manifest.summary.totals).toMatchObject({ spells: 2, outflows: 1, to_work: 1, durable: 1 });
  }, 60_000);

  it('refuses an observation end that is not a calendar date (exit 2)', async () => {
    const result = await runBoldlink([
      'metrics',
      '--input',
      linked,
      '--out',
      join(root, 'x'),
      '--observation-end',
      '2021-02-30',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--observation-end');
  }, 30_000);

  it('refuses a directory that is not a link output (exit 1), naming it', async () => {
    const result = await runBoldlink(['metrics', '--input', root, '--out', join(root, 'y')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('MANIFEST_MISSING');
  }, 30_000);

  it('refuses a definitions file with a bad parameter, naming the file and the parameter', async () => {
    const bad = join(root, 'bad-definitions.json');
    const d = JSON.parse(await readFile(defaults, 'utf8')) as Record<string, unknown>;
    await writeFile(bad, JSON.stringify({ ...d, spellGapDays: -1 }));
    const result = await runBoldlink(['metrics', '--input', linked, '--out', join(root, 'z'), '--definitions', bad]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(bad);
    expect(result.stderr).toContain('spellGapDays');
  }, 30_000);

  it('refuses first jobs in a year the minimum-wage reference lacks, rather than leave them unbanded', async () => {
    const early = join(root, 'linked-2012');
    await writeLinkOutput(early, {
      ...fixture,
      benefits: [{ person: 'a', start: '2012-01-01', end: '2012-06-30' }],
      jobs: [{ person: 'a', start: '2012-07-01', end: null }],
    });
    const result = await runBoldlink(['metrics', '--input', early, '--out', join(root, 'early')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('REFERENCE_INCOMPLETE');
    expect(result.stderr).toContain('2012');
    await expect(stat(join(root, 'early'))).rejects.toThrow();
  }, 30_000);

  it('records a different definitions version when a parameter changes', async () => {
    const d = metricDefinitions.parse(JSON.parse(await readFile(defaults, 'utf8')));
    const changed = metricDefinitions.parse({ ...d, spellGapDays: 60 });
    const reworded = metricDefinitions.parse({ ...d, description: 'other words' });
    expect(definitionsVersion(changed)).not.toBe(definitionsVersion(d));
    expect(definitionsVersion(reworded)).toBe(definitionsVersion(d));
    expect(definitionsVersion(d)).toMatch(/^bold-default@[0-9a-f]{12}$/);

    const file = join(root, 'gap60.json');
    await writeFile(file, JSON.stringify({ ...d, name: 'gap60', spellGapDays: 60 }));
    const out = join(root, 'metrics-gap60');
    const result = await runBoldlink([
      'metrics',
      '--input',
      linked,
      '--out',
      out,
      '--definitions',
      file,
      '--observation-end',
      '2021-12-31',
    ]);
    expect(result.code).toBe(0);
    const manifest = manifestSchema.parse(JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')));
    expect(manifest.definitions[0]?.version).toBe(
      definitionsVersion(metricDefinitions.parse({ ...d, name: 'gap60', spellGapDays: 60 })),
    );
    expect(manifest.parameters.definitions).toMatchObject({ spellGapDays: 60 });
  }, 60_000);

  it('rejects age bands that straddle the youth-desk boundary', () => {
    const result = metricDefinitions.safeParse({
      format: 'boldlink-definitions/v1',
      name: 'x',
      spellGapDays: 31,
      workWindowDays: { before: 31, after: 31 },
      durabilityHorizonMonths: 12,
      jobLastedMonths: 12,
      endsWithinMonths: 12,
      partTimeHoursBelow: 35,
      smallJobHoursBelow: 12,
      wageBandNearFactor: 1.1,
      minimumAge: 18,
      youthBoundaryAge: 27,
      discontinuityYears: 2,
      ageBands: [
        { label: '18-29', from: 18, to: 29 },
        { label: '30+', from: 30 },
      ],
      durationBands: [{ label: 'all', from: 0 }],
      observationEnd: null,
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toContain('straddles');
  }, 30_000);
});

import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBoldlink } from './support/cli.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-protect-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink protect', () => {
  it("adds the margins of a steward's inner cells and suppresses a small district together with a second one in its municipality", async () => {
    const input = join(root, 'wijken.csv');
    await writeFile(
      input,
      [
        'gemeente,wijk,leeftijd,aantal',
        'rotterdam,Charlois,jong,3',
        'rotterdam,Charlois,oud,40',
        'rotterdam,Noord,jong,25',
        'rotterdam,Noord,oud,33',
        'utrecht,Oost,jong,18',
        'utrecht,Oost,oud,27',
        'utrecht,West,jong,21',
        'utrecht,West,oud,30',
        '',
      ].join('\n'),
    );
    const out = join(root, 'out');
    const result = await runBoldlink([
      'protect',
      '--input',
      input,
      '--dimensions',
      'gemeente,wijk,leeftijd',
      '--count',
      'aantal',
      '--hierarchy',
      'gemeente>wijk',
      '--out',
      out,
    ]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect((await readdir(join(out, 'tables'))).sort()).toEqual(['wijken.csv', 'wijken.json', 'wijken.parquet']);
    const rows = JSON.parse(await readFile(join(out, 'tables', 'wijken.json'), 'utf8')) as {
      gemeente: string;
      wijk: string;
      leeftijd: string;
      aantal: number | null;
      aantal_status: string;
    }[];
    // 3 gemeente-level codes (Total, 2 municipalities) + 4 districts = 7, × 3 age codes.
    expect(rows).toHaveLength(21);
    expect(rows.find((r) => r.gemeente === 'Total' && r.wijk === 'Total' && r.leeftijd === 'Total')!.aantal).toBe(197);
    const charloisYoung = rows.find((r) => r.wijk === 'Charlois' && r.leeftijd === 'jong')!;
    expect(charloisYoung).toMatchObject({ aantal: null, aantal_status: 'suppressed' });
    // The partner district in the same municipality goes too; Utrecht stays untouched.
    expect(rows.find((r) => r.wijk === 'Noord' && r.leeftijd === 'jong')!.aantal_status).toBe('suppressed');
    expect(rows.filter((r) => r.gemeente === 'utrecht').every((r) => r.aantal_status === 'published')).toBe(true);
    const log = await readFile(`${out}.disclosure-log/disclosure-log.csv`, 'utf8');
    expect(log).toMatch(/primary,frequency/);
  }, 60_000);

  it('rejects a count that is not a whole number, naming row and column', async () => {
    const input = join(root, 'bad.csv');
    await writeFile(input, 'wijk,aantal\nNoord,12\nZuid,-3\n');
    const result = await runBoldlink([
      'protect',
      '--input',
      input,
      '--dimensions',
      'wijk',
      '--count',
      'aantal',
      '--out',
      join(root, 'bad-out'),
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/row 2/);
    expect(result.stderr).toMatch(/aantal/);
  }, 60_000);
});

import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedKey } from '../keys/keyFile.js';
import { runBoldlink } from './support/cli.js';
import { birthMonth, f1Of, identified, newKey, p1Of, writePseudonymized, type Person } from './linkFixtures.js';

/* The command a TTP runs: one client linked on BSN, one on the fallback, one unknown. */
const A: Person = { bsn: '111222333', birthDate: '1980-03-14', sex: 'F', postcode: '3011AA', houseNumber: '1' };
const B: Person = { bsn: '123456782', birthDate: '1975-07-02', sex: 'M', postcode: '3012BB', houseNumber: '22' };
const X: Person = { bsn: '100000058', birthDate: '1970-01-01', sex: 'M', postcode: '3016XX', houseNumber: '4' };

let root: string;
let ttpKey: LoadedKey;
let holderDir: string;
let rotterdamDir: string;
let foreignDir: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-linkcli-'));
  const sourceKey = await newKey(root, 'ksrc', 'source');
  const otherKey = await newKey(root, 'kother', 'source');
  ttpKey = await newKey(root, 'kttp', 'ttp');
  const person = (p: Person) => ({
    p1: p1Of(sourceKey, p),
    f1: f1Of(sourceKey, p),
    id_status: 'bsn',
    birth_month: birthMonth(p),
    sex: p.sex,
    municipality_code: 'GM0599',
  });
  holderDir = await writePseudonymized(join(root, 'cbs'), 'cbs', sourceKey, {
    persons: [person(A), person(B)],
    jobs: [
      {
        p1: p1Of(sourceKey, A),
        f1: null,
        id_status: 'bsn',
        employer_id: 'E1',
        start_date: '2022-01-01',
        end_date: null,
        contract_type: 'permanent',
        hours_per_week: 36,
        hourly_wage: 15,
      },
    ],
  });
  const client = (key: LoadedKey, p: Person, how: 'bsn' | 'fallback') => ({
    ...identified(key, p, how),
    birth_month: birthMonth(p),
    sex: p.sex,
    district: 'Noord',
    household_type: 'single',
  });
  const benefit = (key: LoadedKey, p: Person, how: 'bsn' | 'fallback') => ({
    ...identified(key, p, how),
    benefit_type: 'bijstand',
    start_date: '2020-01-01',
    end_date: null,
    end_reason: null,
  });
  rotterdamDir = await writePseudonymized(join(root, 'rotterdam'), 'rotterdam', sourceKey, {
    clients: [client(sourceKey, A, 'bsn'), client(sourceKey, B, 'fallback'), client(sourceKey, X, 'bsn')],
    benefits: [benefit(sourceKey, A, 'bsn'), benefit(sourceKey, X, 'bsn')],
  });
  foreignDir = await writePseudonymized(join(root, 'utrecht'), 'utrecht', otherKey, {
    clients: [client(otherKey, A, 'bsn')],
  });
}, 120_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('boldlink link (command line)', { timeout: 120_000 }, () => {
  it('links and prints the quality report with unique / multiple / none and no pseudonym', async () => {
    const out = join(root, 'linked');
    const result = await runBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'bold-2025',
      '--input',
      holderDir,
      rotterdamDir,
      '--out',
      out,
    ]);
    expect(result.stderr).not.toMatch(/error/i);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/source\s+file\s+records\s+unique\s+on BSN\s+on fallback\s+multiple\s+none/);
    expect(result.stdout).toMatch(/rotterdam\s+clients\s+3\s+2\s+1\s+1\s+0\s+1\s+66\.7%/);
    expect(result.stdout).toContain('Benefit records with a linked person: 50.0% (1 of 2)');
    expect(result.stdout + result.stderr).not.toMatch(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/);
    await access(join(out, 'linkage-report.json'));
  });

  it('exits 1 naming both fingerprints when the sources used different keys, and writes nothing', async () => {
    const out = join(root, 'mixed');
    const result = await runBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'bold-2025',
      '--input',
      holderDir,
      rotterdamDir,
      foreignDir,
      '--out',
      out,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('[KEY_MISMATCH]');
    await expect(access(out)).rejects.toThrow();
  });

  it('exits 2 on a project id that is not a plain name, or a memory limit that is not a size', async () => {
    const result = await runBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'my project',
      '--input',
      holderDir,
      rotterdamDir,
      '--out',
      join(root, 'bad'),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--project');
    const memory = await runBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'p',
      '--input',
      holderDir,
      rotterdamDir,
      '--out',
      join(root, 'bad'),
      '--memory-limit',
      'lots',
    ]);
    expect(memory.code).toBe(2);
    expect(memory.stderr).toContain('--memory-limit');
  });

  it('runs under a memory limit', async () => {
    const result = await runBoldlink([
      'link',
      '--key',
      ttpKey.file,
      '--project',
      'bold-2025',
      '--input',
      holderDir,
      rotterdamDir,
      '--out',
      join(root, 'limited'),
      '--memory-limit',
      '256MB',
    ]);
    expect(result.code).toBe(0);
  });
});

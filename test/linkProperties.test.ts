import fc from 'fast-check';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LoadedKey } from '../keys/keyFile.js';
import { projectKey, researchPseudonym } from '../keys/pseudonyms.js';
import { Duck, sqlString } from '../pipeline/core/duckdb.js';
import { runLink } from '../pipeline/link/link.js';
import {
  birthMonth,
  f1Of,
  identified,
  newKey,
  p1Of,
  writePseudonymized,
  type Person,
  type Row,
} from './linkFixtures.js';

/*
 * Property: whatever the mix of BSN and fallback records, shared fallback
 * fields, persons without a BSN at the holder and persons the holder does not
 * know, link gives each record exactly the person a by-hand model of the rules
 * gives it — P1 first; F1 only when one person has it; otherwise unlinked.
 */

/** A valid BSN from a number: eight digits plus the elfproef check digit (numbers whose check would be 10 are shifted). */
function bsnFrom(n: number): string {
  for (let k = n; ; k++) {
    const digits = String(10_000_000 + (k % 89_999_999)).padStart(8, '0');
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(digits[i]);
    const check = sum % 11;
    if (check < 10) return `${digits}${check}`;
  }
}

const ADDRESSES = [
  { birthDate: '1980-01-01', sex: 'F', postcode: '3011AA', houseNumber: '1' },
  { birthDate: '1980-01-01', sex: 'F', postcode: '3011AA', houseNumber: '2' },
  { birthDate: '1991-06-15', sex: 'M', postcode: '1012BB', houseNumber: '10' },
] as const;

interface World {
  /** Holder persons: which fallback fields they have and whether the holder knows their BSN. */
  readonly persons: readonly { readonly address: number; readonly withBsn: boolean }[];
  /** Municipal client records: whose (index into persons, or beyond = unknown to the holder) and how identified. */
  readonly records: readonly {
    readonly municipality: 'rotterdam' | 'utrecht';
    readonly person: number;
    readonly how: 'bsn' | 'fallback';
  }[];
}

const world: fc.Arbitrary<World> = fc.record({
  persons: fc.array(fc.record({ address: fc.nat({ max: ADDRESSES.length - 1 }), withBsn: fc.boolean() }), {
    minLength: 1,
    maxLength: 6,
  }),
  records: fc.array(
    fc.record({
      municipality: fc.constantFrom('rotterdam' as const, 'utrecht' as const),
      person: fc.nat({ max: 7 }),
      how: fc.constantFrom('bsn' as const, 'fallback' as const),
    }),
    { minLength: 1, maxLength: 10 },
  ),
});

let root: string;
let sourceKey: LoadedKey;
let ttpKey: LoadedKey;
let run = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'boldlink-linkprop-'));
  sourceKey = await newKey(root, 'ksrc', 'source');
  ttpKey = await newKey(root, 'kttp', 'ttp');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('link: matching rules (property)', { timeout: 300_000 }, () => {
  it('links every record as the by-hand model says', async () => {
    await fc.assert(
      fc.asyncProperty(world, async (w) => {
        run++;
        // Person i (holder or not) has its own BSN; unknown persons (index ≥ persons.length) share an address slot too.
        const personOf = (i: number): Person => ({
          bsn: bsnFrom(1_000 + i * 7_919),
          ...ADDRESSES[i % ADDRESSES.length]!,
          ...(i < w.persons.length ? ADDRESSES[w.persons[i]!.address] : {}),
        });
        const holderRows: Row[] = w.persons.map((p, i) => {
          const person = personOf(i);
          return {
            p1: p.withBsn ? p1Of(sourceKey, person) : null,
            f1: f1Of(sourceKey, person),
            id_status: p.withBsn ? 'bsn' : 'fallback',
            birth_month: birthMonth(person),
            sex: person.sex,
            municipality_code: 'GM0599',
          };
        });
        const dir = join(root, `run-${run}`);
        const holder = await writePseudonymized(join(dir, 'cbs'), 'cbs', sourceKey, { persons: holderRows, jobs: [] });
        const inputs = [holder];
        for (const municipality of ['rotterdam', 'utrecht'] as const) {
          const mine = w.records.filter((r) => r.municipality === municipality);
          if (mine.length === 0) continue;
          const clients = mine.map((r) => ({
            ...identified(sourceKey, personOf(r.person), r.how),
            birth_month: birthMonth(personOf(r.person)),
            sex: personOf(r.person).sex,
            district: 'x',
            household_type: 'single',
          }));
          inputs.push(await writePseudonymized(join(dir, municipality), municipality, sourceKey, { clients }));
        }
        const result = await runLink({ keyFile: ttpKey.file, project: 'prop', inputs, out: join(dir, 'linked') });

        // The model.
        const projKey = projectKey(ttpKey.bytes(), 'prop');
        const ridOfPerson = (i: number) => researchPseudonym(projKey, p1Of(sourceKey, personOf(i)));
        const expected: string[] = [];
        const counts = new Map<string, { bsn: number; fallback: number; multiple: number; none: number }>();
        for (const r of w.records) {
          const c = counts.get(r.municipality) ?? { bsn: 0, fallback: 0, multiple: 0, none: 0 };
          counts.set(r.municipality, c);
          if (r.how === 'bsn') {
            const known = r.person < w.persons.length && w.persons[r.person]!.withBsn;
            if (known) {
              c.bsn++;
              expected.push(`${r.municipality}|${ridOfPerson(r.person)}`);
            } else c.none++;
            continue;
          }
          const f1 = f1Of(sourceKey, personOf(r.person));
          const candidates = w.persons.map((_, i) => i).filter((i) => f1Of(sourceKey, personOf(i)) === f1);
          if (candidates.length > 1) c.multiple++;
          else if (candidates.length === 1 && w.persons[candidates[0]!]!.withBsn) {
            c.fallback++;
            expected.push(`${r.municipality}|${ridOfPerson(candidates[0]!)}`);
          } else c.none++;
        }

        const duck = await Duck.open({ threads: 1 });
        try {
          const linked = await duck.jsonRows<{ municipality: string; rid: string }>(
            `SELECT municipality, rid FROM read_parquet(${sqlString(join(result.outDir, 'clients.parquet'))})`,
          );
          expect(linked.map((r) => `${r.municipality}|${r.rid}`).sort()).toEqual(expected.sort());
        } finally {
          duck.close();
        }
        for (const [municipality, c] of counts) {
          const f = result.report.sources
            .find((s) => s.source === municipality)
            ?.files.find((x) => x.file === 'clients');
          expect(f).toMatchObject({
            matchedOnBsn: c.bsn,
            matchedOnFallback: c.fallback,
            multiple: c.multiple,
            none: c.none,
          });
        }
        await rm(dir, { recursive: true, force: true });
      }),
      { numRuns: 12, seed: 20_251_125 },
    );
  });
});

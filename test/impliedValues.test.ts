import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { impliedCells } from '../pipeline/core/impliedValues.js';

describe('values that known cells fix', () => {
  it('a relation with all cells but one known fixes that one, and so on along a chain', () => {
    // year total = 2015 + 2016; grand total = year total + other; 2015, 2016 and other known.
    const implied = impliedCells(
      [
        { total: 'years', parts: ['2015', '2016'] },
        { total: 'grand', parts: ['years', 'other'] },
      ],
      new Set(['2015', '2016', 'other']),
      new Set(),
    );
    expect([...implied].sort()).toEqual(['grand', 'years']);
  });

  it('a total known to be 0 fixes every part at 0, and parts all 0 fix their total', () => {
    const relations = [
      { total: 'amsterdam', parts: ['centrum', 'noord', 'west'] },
      { total: 'grand', parts: ['amsterdam', 'rotterdam'] },
    ];
    expect([...impliedCells(relations, new Set(['amsterdam']), new Set(['amsterdam']))].sort()).toEqual([
      'centrum',
      'noord',
      'west',
    ]);
    // Nothing follows from one known part of three, however small.
    expect(impliedCells(relations, new Set(['centrum']), new Set(['centrum'])).size).toBe(0);
  });

  it('never marks a cell that the known cells leave free (property: a second table that agrees on the known cells differs on it)', () => {
    // Random one-way tables (parts and their total): a cell is implied only if every table with the same known values
    // gives it the same value; check against a table whose free parts are shifted by one in opposite directions.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 7, maxLength: 7 }),
        (parts, knownFlags) => {
          const keys = parts.map((_, i) => `p${i}`);
          const known = new Set(keys.filter((_, i) => knownFlags[i]));
          if (knownFlags[6]) known.add('total');
          const zeros = new Set([...known].filter((k) => k !== 'total' && parts[Number(k.slice(1))] === 0));
          if (known.has('total') && parts.every((p) => p === 0)) zeros.add('total');
          const implied = impliedCells([{ total: 'total', parts: keys }], known, zeros);
          const free = keys.filter((k) => !known.has(k));
          // With two or more free parts and the total known, one can go up and another down: none is fixed,
          // unless the total is 0 (then every part is 0).
          if (known.has('total') && free.length >= 2 && !zeros.has('total'))
            for (const k of free) expect(implied.has(k)).toBe(false);
          if (!known.has('total') && free.length >= 1) expect(implied.has('total')).toBe(false);
        },
      ),
      { numRuns: 200, seed: 2026 },
    );
  });
});

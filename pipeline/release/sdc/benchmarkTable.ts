import type { InnerCell } from './innerTable.js';

/**
 * The benchmark table, generated deterministically: 4 municipalities
 * > 20 districts each × 10 years × 6 age bands (4,800 inner cells, 6,545 with
 * all margins), skewed district sizes, about one inner cell in five between 1
 * and 9. Lives beside the engine so the bench and the tests share it.
 */
export const BENCHMARK_GROUPS = [['municipality', 'district'], ['year'], ['age_band']] as const;

export function benchmarkInnerCells(seed = 20260101, targetSmallShare = 0.2): InnerCell[] {
  const shape = skeleton(seed);
  // Scale the expected counts so that the share of cells in 1..9 is as asked.
  let lo = 0.05;
  let hi = 50;
  for (let i = 0; i < 40; i++) {
    const mid = Math.sqrt(lo * hi);
    const share = smallShare(shape, mid);
    if (share > targetSmallShare) lo = mid;
    else hi = mid;
  }
  const scale = Math.sqrt(lo * hi);
  return shape.map(({ values, expected }) => ({ values, count: Math.round(expected * scale) }));
}

const MUNICIPALITIES = ['amsterdam', 'den_haag', 'rotterdam', 'utrecht'];
const AGE_BANDS = ['18-26', '27-34', '35-44', '45-54', '55-64', '65+'];
const AGE_WEIGHT = [1.1, 1.3, 1.2, 1.0, 0.8, 0.25];

function skeleton(seed: number): { values: string[]; expected: number }[] {
  const random = mulberry32(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const cells: { values: string[]; expected: number }[] = [];
  MUNICIPALITIES.forEach((municipality, m) => {
    for (let d = 0; d < 20; d++) {
      // Log-normal district sizes: a few large districts, many small ones.
      const size = Math.exp(1.1 * normal()) * (1 + 0.3 * m);
      for (let y = 0; y < 10; y++) {
        const trend = 1 + 0.04 * (y - 5);
        for (let a = 0; a < AGE_BANDS.length; a++) {
          const noise = Math.exp(0.35 * normal());
          cells.push({
            values: [
              municipality,
              `${municipality}-${String(d + 1).padStart(2, '0')}`,
              String(2015 + y),
              AGE_BANDS[a]!,
            ],
            expected: size * trend * AGE_WEIGHT[a]! * noise,
          });
        }
      }
    }
  });
  return cells;
}

function smallShare(cells: readonly { expected: number }[], scale: number): number {
  let small = 0;
  for (const c of cells) {
    const v = Math.round(c.expected * scale);
    if (v >= 1 && v <= 9) small++;
  }
  return small / cells.length;
}

/** Small fast seeded PRNG (public-domain mulberry32): the bench must be the same table on every machine. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

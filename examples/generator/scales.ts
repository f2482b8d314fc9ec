import { z } from 'zod';

/**
 * Population sizes. At the three smaller scales most of the population lives
 * in the four municipalities (so municipal data is large enough to test on);
 * at national scale they hold their real share, about 15% of 17 million.
 */
export const scaleName = z.enum(['tiny', 'small', 'city', 'national']);
export type ScaleName = z.infer<typeof scaleName>;

export interface Scale {
  readonly name: ScaleName;
  readonly persons: number;
  /** Share of the population living in the four municipalities. */
  readonly cityShare: number;
}

export const SCALES: Record<ScaleName, Scale> = {
  tiny: { name: 'tiny', persons: 5_000, cityShare: 0.85 },
  small: { name: 'small', persons: 50_000, cityShare: 0.85 },
  city: { name: 'city', persons: 650_000, cityShare: 0.85 },
  national: { name: 'national', persons: 17_000_000, cityShare: 0.15 },
};

/** Persons with a benefit spell in 2015–2024 per inhabitant of the four municipalities (Rotterdam's level). */
export const RECIPIENTS_PER_INHABITANT = 0.096;

/** Published WerkLoont trial (Rotterdam): left benefit within 12 months of assignment. */
export const PROGRAMME_TARGET = { treatment: 0.479, control: 0.407 } as const;

/** Share of eligible first spells (assignment date in 2017–2022) drawn into the programme. */
export const PROGRAMME_RATE = 0.2;

/** Last day of the generated data; nothing is dated later (ongoing spells and jobs have no end). */
export const DATA_END = '2024-12-31';

/**
 * Where the synthetic population lives: the four municipalities of the BOLD
 * Cities research with their districts (wijken) and four-digit postcode
 * ranges, and a handful of other municipalities standing in for the rest of
 * the country. Postcode ranges are plausible, not a gazetteer.
 */

export const CITY_NAMES = ['rotterdam', 'amsterdam', 'utrecht', 'den_haag'] as const;
export type CityName = (typeof CITY_NAMES)[number];

export interface District {
  readonly name: string;
  /** First four-digit postcode (PC4) of the district and how many follow it. */
  readonly pc4: number;
  readonly pc4Count: number;
}

export interface Place {
  /** Municipal source name for the four cities; null for the rest of the country. */
  readonly municipality: CityName | null;
  readonly code: string;
  /** Share of the four-city population (cities only). */
  readonly weight: number;
  readonly districts: readonly District[];
}

export const CITIES: readonly Place[] = [
  {
    municipality: 'rotterdam',
    code: 'GM0599',
    weight: 0.35,
    districts: [
      { name: 'Centrum', pc4: 3011, pc4Count: 6 },
      { name: 'Delfshaven', pc4: 3021, pc4Count: 9 },
      { name: 'Noord', pc4: 3031, pc4Count: 9 },
      { name: 'Kralingen-Crooswijk', pc4: 3061, pc4Count: 3 },
      { name: 'Prins Alexander', pc4: 3065, pc4Count: 5 },
      { name: 'Feijenoord', pc4: 3071, pc4Count: 5 },
      { name: 'IJsselmonde', pc4: 3076, pc4Count: 4 },
      { name: 'Charlois', pc4: 3081, pc4Count: 9 },
      { name: 'Hoogvliet', pc4: 3191, pc4Count: 4 },
    ],
  },
  {
    municipality: 'amsterdam',
    code: 'GM0363',
    weight: 0.3,
    districts: [
      { name: 'Centrum', pc4: 1011, pc4Count: 8 },
      { name: 'Noord', pc4: 1021, pc4Count: 12 },
      { name: 'West', pc4: 1051, pc4Count: 7 },
      { name: 'Nieuw-West', pc4: 1061, pc4Count: 9 },
      { name: 'Zuid', pc4: 1071, pc4Count: 9 },
      { name: 'Oost', pc4: 1091, pc4Count: 9 },
      { name: 'Zuidoost', pc4: 1101, pc4Count: 8 },
    ],
  },
  {
    municipality: 'utrecht',
    code: 'GM0344',
    weight: 0.15,
    districts: [
      { name: 'Binnenstad', pc4: 3511, pc4Count: 2 },
      { name: 'Zuid', pc4: 3523, pc4Count: 3 },
      { name: 'Zuidwest', pc4: 3526, pc4Count: 3 },
      { name: 'West', pc4: 3531, pc4Count: 3 },
      { name: 'Leidsche Rijn', pc4: 3541, pc4Count: 6 },
      { name: 'Noordwest', pc4: 3551, pc4Count: 3 },
      { name: 'Overvecht', pc4: 3561, pc4Count: 4 },
      { name: 'Noordoost', pc4: 3581, pc4Count: 3 },
      { name: 'Oost', pc4: 3584, pc4Count: 2 },
      { name: 'Vleuten-De Meern', pc4: 3451, pc4Count: 3 },
    ],
  },
  {
    municipality: 'den_haag',
    code: 'GM0518',
    weight: 0.2,
    districts: [
      { name: 'Leidschenveen-Ypenburg', pc4: 2491, pc4Count: 7 },
      { name: 'Centrum', pc4: 2511, pc4Count: 8 },
      { name: 'Laak', pc4: 2521, pc4Count: 5 },
      { name: 'Escamp', pc4: 2541, pc4Count: 7 },
      { name: 'Segbroek', pc4: 2551, pc4Count: 2 },
      { name: 'Loosduinen', pc4: 2553, pc4Count: 3 },
      { name: 'Scheveningen', pc4: 2581, pc4Count: 6 },
      { name: 'Haagse Hout', pc4: 2591, pc4Count: 7 },
    ],
  },
];

/** The rest of the country, equally likely; the district name is the town's. */
export const ELSEWHERE: readonly Place[] = [
  ['GM0014', 'Groningen', 9711],
  ['GM0080', 'Leeuwarden', 8911],
  ['GM0193', 'Zwolle', 8011],
  ['GM0153', 'Enschede', 7511],
  ['GM0200', 'Apeldoorn', 7311],
  ['GM0268', 'Nijmegen', 6511],
  ['GM0935', 'Maastricht', 6211],
  ['GM0772', 'Eindhoven', 5611],
  ['GM0855', 'Tilburg', 5011],
  ['GM0758', 'Breda', 4811],
  ['GM0307', 'Amersfoort', 3811],
  ['GM0034', 'Almere', 1311],
].map(([code, town, pc4]) => ({
  municipality: null,
  code: code as string,
  weight: 0,
  districts: [{ name: town as string, pc4: pc4 as number, pc4Count: 40 }],
}));

/** SQL that creates `place(place_no, municipality, code, is_city, districts)`; place_no 1–4 are the cities in CITIES order. */
export function placeTableSql(): string {
  const rows = [...CITIES, ...ELSEWHERE].map((place, index) => {
    const districts = place.districts
      .map((d) => `{'name': '${d.name.replaceAll("'", "''")}', 'pc4': ${d.pc4}, 'pc4_count': ${d.pc4Count}}`)
      .join(', ');
    const municipality = place.municipality === null ? 'NULL' : `'${place.municipality}'`;
    return `(${index + 1}, ${municipality}, '${place.code}', ${place.municipality !== null}, [${districts}])`;
  });
  return `CREATE OR REPLACE TABLE place (place_no INTEGER, municipality VARCHAR, code VARCHAR, is_city BOOLEAN, districts STRUCT(name VARCHAR, pc4 INTEGER, pc4_count INTEGER)[]);
INSERT INTO place VALUES ${rows.join(',\n  ')};`;
}

/**
 * A SQL expression picking a place_no from two uniform draws: with probability
 * `cityShare` one of the four cities by weight, else one of ELSEWHERE.
 */
export function placePickSql(uCity: string, uPlace: string, cityShare: number): string {
  let cumulative = 0;
  const branches = CITIES.map((city, index) => {
    cumulative += city.weight;
    return index === CITIES.length - 1
      ? `ELSE ${index + 1}`
      : `WHEN ${uPlace} < ${cumulative.toFixed(6)} THEN ${index + 1}`;
  });
  return `CASE WHEN ${uCity} < ${cityShare} THEN (CASE ${branches.join(' ')} END) ELSE ${CITIES.length + 1} + CAST(floor(${uPlace} * ${ELSEWHERE.length}) AS INTEGER) END`;
}

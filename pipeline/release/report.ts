import type { BundleTable } from './bundleTable.js';

/**
 * The self-contained HTML report of a release: inline SVG charts (no script,
 * no network) of outflow, durable outflow and job quality over the years per
 * group, inflow and its ending within 12 months, and treatment vs control with
 * 95% intervals. Suppressed cells are drawn as red crosses on the axis and
 * named in the tooltip; they are never interpolated over. Every published value
 * of a charted measure is drawn (a share that cannot be, as a count).
 */
export interface ReportInput {
  readonly title: string;
  /** What the tables were made from (the input's own timestamp, so the same input gives the same report). */
  readonly basedOn: string;
  readonly tables: readonly BundleTable[];
  readonly loss: Readonly<
    Record<string, { cells: number; suppressedValues: number; personsSuppressed: number; personsTotal: number }>
  >;
}

/**
 * A chart of one measure over the years. A share needs its numerator and its denominator published; where the
 * numerator is published but its denominator is not (a suppressed `uncensored` under a published `durable`), the
 * share cannot be drawn, so the numerator gets a chart of its own as a count: every published value is drawn.
 */
interface Recipe {
  readonly title: string;
  readonly numerator: string;
  readonly denominator?: string;
  /** The numerator's chart as a count, when a published numerator has no share to show. */
  readonly countTitle?: string;
}

/** The charts of each population's tables; a table without a population has none. */
const RECIPES: Readonly<Record<string, readonly Recipe[]>> = {
  outflows: [
    { title: 'Outflow (spells ended)', numerator: 'spells' },
    {
      title: 'Share of outflows to work',
      numerator: 'to_work',
      denominator: 'spells',
      countTitle: 'Outflows to work (count)',
    },
    {
      title: 'Durable outflow (share of uncensored outflows)',
      numerator: 'durable',
      denominator: 'uncensored',
      countTitle: 'Durable outflows (count)',
    },
    {
      title: 'Job quality: first job part-time (share of outflows to work)',
      numerator: 'first_part_time',
      denominator: 'to_work',
      countTitle: 'Job quality: first job part-time (count)',
    },
    {
      title: 'Job quality: first job pays above 1.1 × minimum wage (share)',
      numerator: 'first_wage_above',
      denominator: 'to_work',
      countTitle: 'Job quality: first job pays above 1.1 × minimum wage (count)',
    },
    {
      title: 'Job quality: first job lasted 12 months (share of known)',
      numerator: 'first_lasted_12m',
      denominator: 'first_lasted_known',
      countTitle: 'Job quality: first job lasted 12 months (count)',
    },
  ],
  inflows: [
    { title: 'Inflow (spells started)', numerator: 'spells' },
    {
      title: 'Ended within 12 months (share of spells whose first 12 months are known)',
      numerator: 'ended_within_12m',
      denominator: 'known_12m',
      countTitle: 'Ended within 12 months (count)',
    },
  ],
};

const COLOURS = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#d62728',
];

type Point = number | 'suppressed' | null;

export function renderReport(input: ReportInput): string {
  const sections: string[] = [];
  for (const table of input.tables) {
    const section = tableSection(table);
    if (section !== '') sections.push(section);
  }
  const effects = input.tables.filter(
    (t) => t.columns.some((c) => c.name === 'difference') && t.columns.some((c) => c.name === 'ci_low'),
  );
  for (const table of effects) sections.push(effectsSection(table));
  const lossRows = Object.entries(input.loss)
    .map(
      ([name, l]) =>
        `<tr><td>${esc(name)}</td><td>${l.cells}</td><td>${l.suppressedValues}</td><td>${l.personsTotal === 0 ? '' : `${((100 * l.personsSuppressed) / l.personsTotal).toFixed(1)}%`}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
figure{display:inline-block;margin:0 1rem 1rem 0;vertical-align:top}figcaption{font-size:.85rem;max-width:520px}
table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}td:first-child{text-align:left}
.legend{font-size:.8rem}.suppressed{color:#c00}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p>Made from ${esc(input.basedOn)}. Every number here passed disclosure control. <span class="suppressed">✕</span> marks a suppressed cell: its value is withheld and the line is not drawn through it.</p>
<h2>Disclosure control</h2>
<table><thead><tr><th>table</th><th>cells</th><th>values suppressed</th><th>persons in suppressed inner cells</th></tr></thead><tbody>${lossRows}</tbody></table>
${sections.join('\n')}
</body></html>
`;
}

function tableSection(table: BundleTable): string {
  const dims = table.columns.filter((c) => c.role === 'dimension').map((c) => c.name);
  const yearColumn = dims.find((d) => /(^|_)year$/.test(d) || d === 'cohort');
  if (yearColumn === undefined || table.columns.some((c) => c.name === 'difference')) return '';
  const groupColumn = dims.find((d) => d !== yearColumn);
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  // Rows where every dimension other than year and the group column is Total; the group's top level only.
  const rows = table.rows.filter((r) =>
    dims.every((d) => d === yearColumn || d === groupColumn || r[index.get(d)!] === 'Total'),
  );
  const years = [...new Set(rows.map((r) => String(r[index.get(yearColumn)!])).filter((y) => y !== 'Total'))].sort();
  const groups =
    groupColumn === undefined
      ? ['Total']
      : [...new Set(rows.map((r) => String(r[index.get(groupColumn)!])))]
          .sort((a, b) => (a === 'Total' ? 1 : b === 'Total' ? -1 : a.localeCompare(b)))
          .slice(0, 10);
  const cell = (year: string, group: string) =>
    rows.find(
      (r) =>
        String(r[index.get(yearColumn)!]) === year &&
        (groupColumn === undefined || String(r[index.get(groupColumn)!]) === group),
    );
  const countOf = (row: readonly (string | number | null)[] | undefined, column: string): Point => {
    if (row === undefined) return null;
    if (row[index.get(`${column}_status`)!] === 'suppressed') return 'suppressed';
    const value = row[index.get(column)!];
    return typeof value === 'number' ? value : null;
  };
  const by = `by ${yearColumn}${groupColumn === undefined ? '' : ` and ${groupColumn}`}`;
  const figures: string[] = [];
  for (const recipe of RECIPES[table.population ?? ''] ?? []) {
    const { numerator, denominator } = recipe;
    if (!index.has(numerator) || (denominator !== undefined && !index.has(denominator))) continue;
    const counts = groups.map((group) => ({
      name: group,
      points: years.map((year) => countOf(cell(year, group), numerator)),
    }));
    if (denominator === undefined) {
      figures.push(lineChart(`${recipe.title} ${by}`, years, counts, false));
      continue;
    }
    const shares = groups.map((group) => ({
      name: group,
      points: years.map((year): Point => {
        const num = countOf(cell(year, group), numerator);
        const den = countOf(cell(year, group), denominator);
        if (num === 'suppressed' || den === 'suppressed') return 'suppressed';
        return num !== null && den !== null && den > 0 ? num / den : null;
      }),
    }));
    figures.push(lineChart(`${recipe.title} ${by}`, years, shares, true));
    const shownInNoShare = counts.some((c, k) =>
      c.points.some((p, i) => typeof p === 'number' && typeof shares[k]!.points[i] !== 'number'),
    );
    if (shownInNoShare && recipe.countTitle !== undefined)
      figures.push(lineChart(`${recipe.countTitle} ${by}`, years, counts, false));
  }
  if (figures.length === 0) return '';
  return `<h2>${esc(table.title)}</h2><p>${esc(table.description)}</p>${figures.join('')}`;
}

function lineChart(
  title: string,
  xs: readonly string[],
  series: readonly { name: string; points: readonly Point[] }[],
  share: boolean,
): string {
  const width = 520;
  const height = 260;
  const left = 56;
  const right = 10;
  const top = 12;
  const bottom = 40;
  const values = series.flatMap((s) => s.points.filter((p): p is number => typeof p === 'number'));
  const max = share ? Math.min(1, Math.max(0.05, ...values) * 1.1) : Math.max(1, ...values) * 1.1;
  const x = (i: number) =>
    left + (xs.length <= 1 ? (width - left - right) / 2 : (i * (width - left - right)) / (xs.length - 1));
  const y = (v: number) => top + (height - top - bottom) * (1 - v / max);
  const fmt = (v: number) =>
    share ? `${(100 * v).toFixed(0)}%` : v >= 1000 ? `${(v / 1000).toFixed(1)}k` : v.toFixed(0);
  const parts: string[] = [];
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/><text x="${left - 4}" y="${y(v) + 4}" font-size="10" text-anchor="end">${fmt(v)}</text>`,
    );
  }
  xs.forEach((label, i) =>
    parts.push(
      `<text x="${x(i)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${esc(label)}</text>`,
    ),
  );
  let suppressedCount = 0;
  series.forEach((s, k) => {
    const colour = COLOURS[k % COLOURS.length]!;
    let path = '';
    s.points.forEach((p, i) => {
      if (typeof p === 'number') {
        path += `${path === '' || typeof s.points[i - 1] !== 'number' ? 'M' : 'L'}${x(i).toFixed(1)},${y(p).toFixed(1)}`;
        parts.push(
          `<circle cx="${x(i).toFixed(1)}" cy="${y(p).toFixed(1)}" r="2.5" fill="${colour}"><title>${esc(s.name)} ${esc(xs[i]!)}: ${fmt(p)}</title></circle>`,
        );
      } else if (p === 'suppressed') {
        suppressedCount++;
        const cx = x(i);
        const cy = height - bottom - 4 - 4 * k;
        parts.push(
          `<g class="suppressed-cell" stroke="#c00" stroke-width="1.5"><line x1="${cx - 3}" y1="${cy - 3}" x2="${cx + 3}" y2="${cy + 3}"/><line x1="${cx - 3}" y1="${cy + 3}" x2="${cx + 3}" y2="${cy - 3}"/><title>${esc(s.name)} ${esc(xs[i]!)}: suppressed</title></g>`,
        );
      }
    });
    if (path !== '') parts.push(`<path d="${path}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
  });
  const legend = series
    .map((s, k) => `<span style="color:${COLOURS[k % COLOURS.length]}">■</span> ${esc(s.name)}`)
    .join(' &nbsp; ');
  return `<figure><svg width="${width}" height="${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg><figcaption><b>${esc(title)}</b><br><span class="legend">${legend}</span>${suppressedCount > 0 ? `<br><span class="suppressed">✕ ${suppressedCount} suppressed</span>` : ''}</figcaption></figure>`;
}

function effectsSection(table: BundleTable): string {
  const index = new Map(table.columns.map((c, i) => [c.name, i]));
  const get = (r: readonly (string | number | null)[], c: string) => (index.has(c) ? r[index.get(c)!] : undefined);
  const panels = new Map<string, (string | number | null)[][]>();
  for (const row of table.rows) {
    const key = ['design', 'comparison', 'outcome'].map((c) => String(get(row, c) ?? '')).join(' · ');
    const list = panels.get(key);
    if (list === undefined) panels.set(key, [row]);
    else list.push(row);
  }
  const figures: string[] = [];
  for (const [key, rows] of panels) {
    const width = 520;
    const rowHeight = 22;
    const height = 30 + rowHeight * rows.length;
    const bounds = rows
      .flatMap((r) => [get(r, 'ci_low'), get(r, 'ci_high')])
      .filter((v): v is number => typeof v === 'number');
    const span = Math.max(0.05, ...bounds.map(Math.abs)) * 1.1;
    const left = 120;
    const x = (v: number) => left + ((v + span) / (2 * span)) * (width - left - 20);
    const parts = [
      `<line x1="${x(0)}" x2="${x(0)}" y1="10" y2="${height - 18}" stroke="#999" stroke-dasharray="3,3"/>`,
      `<text x="${x(-span)}" y="${height - 4}" font-size="10">${(-100 * span).toFixed(0)} pp</text><text x="${x(span)}" y="${height - 4}" font-size="10" text-anchor="end">+${(100 * span).toFixed(0)} pp</text>`,
    ];
    rows.forEach((r, i) => {
      const cy = 20 + i * rowHeight;
      const label = `${get(r, 'cohort') ?? ''} (${get(r, 'group_treatment') ?? 'treatment'} − ${get(r, 'group_control') ?? 'control'})`;
      parts.push(`<text x="4" y="${cy + 4}" font-size="10">${esc(label)}</text>`);
      const d = get(r, 'difference');
      const lo = get(r, 'ci_low');
      const hi = get(r, 'ci_high');
      if (get(r, 'difference_status') === 'suppressed') {
        parts.push(
          `<g class="suppressed-cell"><text x="${x(0) + 6}" y="${cy + 4}" font-size="10" fill="#c00">✕ suppressed</text><title>suppressed</title></g>`,
        );
      } else if (typeof d === 'number' && typeof lo === 'number' && typeof hi === 'number') {
        parts.push(
          `<line x1="${x(lo)}" x2="${x(hi)}" y1="${cy}" y2="${cy}" stroke="#1f77b4" stroke-width="2"/><circle cx="${x(d)}" cy="${cy}" r="3.5" fill="#1f77b4"><title>${(100 * d).toFixed(1)} pp [${(100 * lo).toFixed(1)}, ${(100 * hi).toFixed(1)}]</title></circle>`,
        );
      }
    });
    figures.push(
      `<figure><svg width="${width}" height="${height}" role="img" aria-label="${esc(key)}">${parts.join('')}</svg><figcaption><b>Treatment − control: ${esc(key)}</b> (difference in share with 95% interval)</figcaption></figure>`,
    );
  }
  return `<h2>${esc(table.title)}</h2><p>${esc(table.description)}</p>${figures.join('')}`;
}

function esc(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}

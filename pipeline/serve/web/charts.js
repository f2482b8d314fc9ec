// Charts of released tables with chart.js (window.Chart, loaded from /vendor).
// Suppressed cells are never drawn as a value: they get a hatched grey
// placeholder bar and a legend entry "Suppressed (disclosure control)".

const PALETTE = ['#154273', '#ca005d', '#39870c', '#e17000', '#007bc7', '#a90061', '#673327', '#5d7f2a'];
const SUPPRESSED_LABEL = 'Suppressed (disclosure control)';
const number = new Intl.NumberFormat('en-GB', { maximumFractionDigits: 3 });

const NAMES = {
  den_haag: 'Den Haag',
  rotterdam: 'Rotterdam',
  amsterdam: 'Amsterdam',
  utrecht: 'Utrecht',
  werkloont: 'WerkLoont',
  youth_desk: 'Youth desk',
};

export function label(value) {
  if (value === null || value === undefined) return '';
  const text = String(value);
  if (NAMES[text]) return NAMES[text];
  if (/^[a-z][a-z0-9_]*$/.test(text)) {
    const spaced = text
      .replace(/([0-9]+)_([0-9]+)/g, '$1–$2')
      .replace(/_/g, ' ')
      .replace(/\bvs\b/, 'vs.');
    return spaced.charAt(0).toUpperCase() + spaced.slice(1);
  }
  return text;
}

export function formatNumber(value) {
  return typeof value === 'number' ? number.format(value) : String(value);
}

let pattern;
/** A diagonal hatch, the portal's sign for "suppressed". */
export function hatch() {
  if (pattern) return pattern;
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const ctx = tile.getContext('2d');
  ctx.fillStyle = '#eeeeee';
  ctx.fillRect(0, 0, 8, 8);
  ctx.strokeStyle = '#8a8a8a';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  ctx.moveTo(0, 8);
  ctx.lineTo(8, 0);
  ctx.moveTo(-2, 2);
  ctx.lineTo(2, -2);
  ctx.moveTo(6, 10);
  ctx.lineTo(10, 6);
  ctx.stroke();
  pattern = ctx.createPattern(tile, 'repeat');
  return pattern;
}

const isSuppressed = (row, column) =>
  row[`${column}_status`] === 'suppressed' ||
  (row[column] === null && row[`${column}_status`] !== undefined && row[`${column}_status`] !== null);

function sortValues(values) {
  return [...values].sort((a, b) =>
    a === 'Total' ? 1 : b === 'Total' ? -1 : String(a).localeCompare(String(b), 'en', { numeric: true }),
  );
}

function confidenceColumns(table) {
  const m = table.measures;
  const low = m.find((c) => /ci_?lo|lower/i.test(c));
  const high = m.find((c) => /ci_?hi|ci_?up|upper/i.test(c));
  const estimate = m.find((c) => /^(difference|diff|effect|estimate)$/i.test(c));
  return low && high && estimate ? { low, high, estimate } : undefined;
}

/** Measures worth charting by default: counts and values, not CI bounds. */
export function chartableMeasures(table) {
  const ci = confidenceColumns(table);
  return ci ? [ci.estimate] : table.measures;
}

/**
 * A chart.js configuration for the rows of a table (already filtered by the
 * API). Returns { config, caption, description } or undefined when there is
 * nothing to draw.
 */
export function chartFor(table, rows, measure, filters = {}) {
  const ci = confidenceColumns(table);
  if (ci) return intervalChart(table, rows, ci);
  return barChart(table, rows, measure, filters);
}

function barChart(table, rows, measure, filters) {
  const dims = table.dimensions;
  if (!measure || dims.length === 0) return undefined;
  const xDim = dims.find((d) => /year|jaar|cohort/i.test(d)) ?? dims[0];
  const others = dims.filter((d) => d !== xDim);
  const nonTotal = (d) => new Set(rows.map((r) => r[d]).filter((v) => v !== 'Total'));
  const seriesDim = others.find((d) => !filters[d] && nonTotal(d).size > 1) ?? others.find((d) => filters[d]) ?? null;
  const fixed = others.filter((d) => d !== seriesDim);
  const selected = rows.filter(
    (r) =>
      (nonTotal(xDim).size === 0 || r[xDim] !== 'Total') &&
      (seriesDim === null || filters[seriesDim] || r[seriesDim] !== 'Total') &&
      fixed.every((d) => (filters[d] ? r[d] === filters[d] : r[d] === 'Total')),
  );
  if (selected.length === 0) return undefined;
  const xs = sortValues(new Set(selected.map((r) => r[xDim])));
  const series = seriesDim === null ? [null] : sortValues(new Set(selected.map((r) => r[seriesDim])));
  const published = selected
    .filter((r) => !isSuppressed(r, measure) && typeof r[measure] === 'number')
    .map((r) => r[measure]);
  // A suppressed cell is drawn as a hatched column up to the top of the axis,
  // so it reads as "unknown" and never as a value near some published bar.
  const axis = niceAxis(published.length > 0 ? Math.max(...published, 0) * 1.05 : 1);
  const placeholder = axis.max;
  const datasets = series.map((s, i) => {
    const cells = xs.map((x) => selected.find((r) => r[xDim] === x && (s === null || r[seriesDim] === s)));
    const suppressed = cells.map((c) => c !== undefined && isSuppressed(c, measure));
    const color = PALETTE[i % PALETTE.length];
    return {
      label: s === null ? label(measure) : label(s),
      data: cells.map((c, j) => (c === undefined ? null : suppressed[j] ? placeholder : c[measure])),
      suppressed,
      backgroundColor: (ctx) => (suppressed[ctx.dataIndex] ? hatch() : color),
      borderColor: (ctx) => (suppressed[ctx.dataIndex] ? '#8a8a8a' : color),
      borderWidth: 1,
    };
  });
  const anySuppressed = datasets.some((d) => d.suppressed.some(Boolean));
  const fixedText = fixed.map((d) => `${label(d)}: ${filters[d] ? label(filters[d]) : 'all'}`).join(', ');
  const caption = `${describe(table, measure)} by ${label(xDim).toLowerCase()}${seriesDim ? ` and ${label(seriesDim).toLowerCase()}` : ''}${fixedText ? ` (${fixedText})` : ''}`;
  return {
    caption,
    description: `${caption}. ${anySuppressed ? 'Some cells are suppressed and shown hatched. ' : ''}The numbers are in the table below.`,
    suppressedCount: datasets.reduce((n, d) => n + d.suppressed.filter(Boolean).length, 0),
    config: {
      type: 'bar',
      data: { labels: xs.map(label), datasets },
      options: baseOptions({
        tooltip: (ctx) => {
          const ds = ctx.dataset;
          return ds.suppressed[ctx.dataIndex]
            ? `${ds.label}: suppressed (disclosure control)`
            : `${ds.label}: ${formatNumber(ctx.parsed.y)}`;
        },
        anySuppressed,
        yAxis: axis,
      }),
    },
  };
}

/** An axis top and tick step (1, 2 or 5 × 10^k) with at most 8 steps. */
function niceAxis(value) {
  if (!(value > 0)) return { max: 1, step: 0.2 };
  const power = 10 ** Math.floor(Math.log10(value));
  for (const unit of [0.1, 0.2, 0.5, 1, 2, 5, 10]) {
    const step = unit * power;
    if (value / step <= 8) return { max: Math.ceil(value / step) * step, step };
  }
  return { max: value, step: value / 8 };
}

function intervalChart(table, rows, ci) {
  const dims = table.dimensions;
  const inner = rows.filter((r) => dims.every((d) => r[d] !== 'Total'));
  const selected = inner.length > 0 ? inner : rows;
  if (selected.length === 0) return undefined;
  // Label each interval by the dimensions that tell the rows apart.
  const varying = dims.filter((d) => new Set(selected.map((r) => r[d])).size > 1);
  // Multi-line labels (one line per dimension) stay readable on narrow charts.
  const labels = selected.map((r) => (varying.length > 0 ? varying : dims).map((d) => label(r[d])));
  const suppressed = selected.map(
    (r) => isSuppressed(r, ci.estimate) || isSuppressed(r, ci.low) || isSuppressed(r, ci.high),
  );
  const bounds = selected.flatMap((r, i) => (suppressed[i] ? [] : [r[ci.low], r[ci.high], 0]));
  const lo = Math.min(...bounds, 0);
  const hi = Math.max(...bounds, 0);
  const intervals = {
    type: 'bar',
    label: '95% confidence interval',
    data: selected.map((r, i) => (suppressed[i] ? [lo, hi] : [r[ci.low], r[ci.high]])),
    suppressed,
    backgroundColor: (ctx) => (suppressed[ctx.dataIndex] ? hatch() : 'rgba(21, 66, 115, 0.25)'),
    borderColor: (ctx) => (suppressed[ctx.dataIndex] ? '#8a8a8a' : '#154273'),
    borderWidth: 1,
    barPercentage: 0.35,
    order: 2,
  };
  const estimates = {
    type: 'line',
    label: 'Difference (treatment − control)',
    data: selected.map((r, i) => (suppressed[i] ? null : r[ci.estimate])),
    suppressed: suppressed.map(() => false),
    showLine: false,
    pointRadius: 6,
    pointHoverRadius: 8,
    pointStyle: 'rectRot',
    backgroundColor: '#ca005d',
    borderColor: '#ca005d',
    order: 1,
  };
  const anySuppressed = suppressed.some(Boolean);
  const caption = `${describe(table, ci.estimate)} with 95% confidence interval`;
  return {
    caption,
    description: `${caption}. ${anySuppressed ? 'Some estimates are suppressed and shown hatched. ' : ''}The numbers are in the table below.`,
    suppressedCount: suppressed.filter(Boolean).length,
    config: {
      type: 'bar',
      data: { labels, datasets: [intervals, estimates] },
      options: baseOptions({
        tooltip: (ctx) => {
          const ds = ctx.dataset;
          if (ds.type === 'bar') {
            if (ds.suppressed[ctx.dataIndex]) return 'suppressed (disclosure control)';
            const [a, b] = ds.data[ctx.dataIndex];
            return `95% CI: ${formatNumber(a)} to ${formatNumber(b)}`;
          }
          return `${ds.label}: ${formatNumber(ctx.parsed.y)}`;
        },
        anySuppressed,
        zeroLine: true,
        flatLabels: true,
      }),
    },
  };
}

function describe(table, measure) {
  const column = table.columns.find((c) => c.name === measure);
  return column?.description ? column.description : label(measure);
}

function baseOptions({ tooltip, anySuppressed, zeroLine = false, flatLabels = false, yAxis }) {
  return {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    interaction: { mode: 'nearest', intersect: true },
    scales: {
      x: {
        grid: { display: false },
        ticks: flatLabels
          ? { color: '#1b1b1b', maxRotation: 0, autoSkip: false, font: { size: 11 } }
          : { color: '#1b1b1b' },
      },
      y: {
        beginAtZero: true,
        ...(yAxis === undefined ? {} : { max: yAxis.max }),
        ticks: {
          color: '#1b1b1b',
          callback: (v) => formatNumber(v),
          ...(yAxis === undefined ? {} : { stepSize: yAxis.step }),
        },
        grid: { color: (ctx) => (zeroLine && ctx.tick && ctx.tick.value === 0 ? '#1b1b1b' : '#e3e7ec') },
      },
    },
    plugins: {
      tooltip: { callbacks: { label: tooltip } },
      legend: {
        position: 'bottom',
        labels: {
          color: '#1b1b1b',
          usePointStyle: false,
          generateLabels: (chart) => {
            const items = window.Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
              const ds = chart.data.datasets[item.datasetIndex];
              const solid =
                typeof ds.borderColor === 'function'
                  ? ds.borderColor({ dataIndex: ds.suppressed.indexOf(false) })
                  : ds.borderColor;
              return { ...item, fillStyle: solid, strokeStyle: solid };
            });
            if (anySuppressed)
              items.push({
                text: SUPPRESSED_LABEL,
                fillStyle: hatch(),
                strokeStyle: '#8a8a8a',
                lineWidth: 1,
                hidden: false,
                datasetIndex: -1,
                fontColor: '#1b1b1b',
              });
            return items;
          },
        },
        onClick: (event, item, legend) => {
          if (item.datasetIndex < 0) return;
          window.Chart.defaults.plugins.legend.onClick.call(legend, event, item, legend);
        },
      },
    },
  };
}

/** Draw (or redraw) a chart on a canvas; returns the chart.js instance. */
export function draw(canvas, spec) {
  const previous = window.Chart.getChart(canvas);
  if (previous) previous.destroy();
  if (!spec) {
    canvas.setAttribute('aria-label', 'No chart for this selection.');
    return undefined;
  }
  canvas.setAttribute('aria-label', spec.description);
  return new window.Chart(canvas, spec.config);
}

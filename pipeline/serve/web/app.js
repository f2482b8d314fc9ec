// The researchers' portal: sign in with a token, browse released tables,
// filter, sort, chart and download. No inline scripts (CSP: script-src 'self').
import { chartableMeasures, chartFor, draw, formatNumber, label } from './charts.js';

const TOKEN_KEY = 'boldlink.token';
const $ = (id) => document.getElementById(id);

const state = {
  tables: [],
  table: undefined,
  allRows: [],
  filters: {},
  sort: [],
  measure: undefined,
  sqlText: '',
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

async function api(path, { method = 'GET', body, format = 'json' } = {}) {
  const headers = {
    Authorization: `Bearer ${token()}`,
    Accept:
      format === 'csv' ? 'text/csv' : format === 'arrow' ? 'application/vnd.apache.arrow.stream' : 'application/json',
  };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  if (!response.ok) {
    let code = String(response.status);
    let message = response.statusText;
    try {
      const json = await response.json();
      code = json.error.code;
      message = json.error.message;
    } catch {
      // not a JSON error body
    }
    if (response.status === 401) signOut('Your token was not accepted. Sign in again.');
    throw new ApiError(response.status, code, message);
  }
  return format === 'json' ? response.json() : response.blob();
}

function setStatus(text) {
  $('status').textContent = text;
}

// ---------------------------------------------------------------- sign in

function showLogin(message) {
  $('app-view').hidden = true;
  $('session').hidden = true;
  $('login-view').hidden = false;
  const error = $('login-error');
  error.hidden = !message;
  error.textContent = message || '';
  $('token-input').value = '';
  $('token-input').focus();
}

function signOut(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  showLogin(message);
}

async function signIn(candidate) {
  sessionStorage.setItem(TOKEN_KEY, candidate);
  try {
    const [me, catalogue] = await Promise.all([api('/api/me'), api('/api/tables')]);
    state.tables = catalogue.tables;
    $('session-name').textContent = `Signed in as ${me.researcher}`;
    $('session').hidden = false;
    $('login-view').hidden = true;
    $('app-view').hidden = false;
    renderNav();
    await route();
  } catch (error) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin(
      error.status === 401
        ? 'This token was not accepted. Check it and try again.'
        : `Could not sign in: ${error.message}`,
    );
  }
}

$('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const candidate = $('token-input').value.trim();
  if (!candidate) {
    showLogin('Enter your access token.');
    return;
  }
  void signIn(candidate);
});
$('sign-out').addEventListener('click', () => signOut(''));

// ---------------------------------------------------------------- navigation

function renderNav() {
  const list = $('table-list');
  list.replaceChildren(
    ...state.tables.map((t) => {
      const item = document.createElement('li');
      const link = document.createElement('a');
      link.href = `#table/${encodeURIComponent(t.name)}`;
      link.textContent = t.title;
      link.dataset.table = t.name;
      item.append(link);
      return item;
    }),
  );
}

function markCurrent(hash) {
  for (const link of document.querySelectorAll('.sidebar a')) {
    if (link.getAttribute('href') === hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

async function route() {
  const hash = location.hash || '#overview';
  for (const view of ['overview-view', 'table-view', 'sql-view']) $(view).hidden = true;
  markCurrent(hash);
  setStatus('');
  try {
    if (hash.startsWith('#table/')) {
      await openTable(decodeURIComponent(hash.slice('#table/'.length)));
    } else if (hash === '#sql') {
      $('sql-view').hidden = false;
      document.title = 'SQL query — Statistics portal';
      if (!$('sql-input').value && state.tables[0])
        $('sql-input').value = `SELECT *\nFROM ${state.tables[0].name}\nLIMIT 20`;
    } else {
      await showOverview();
    }
  } catch (error) {
    setStatus(`Could not load: ${error.message}`);
  }
}
window.addEventListener('hashchange', () => void route());

// ---------------------------------------------------------------- overview

async function showOverview() {
  $('overview-view').hidden = false;
  document.title = 'Key figures — Statistics portal';
  const cards = $('overview-cards');
  cards.replaceChildren();
  for (const table of state.tables) {
    const card = document.createElement('article');
    card.className = 'card';
    const title = document.createElement('h2');
    title.textContent = table.title;
    const text = document.createElement('p');
    text.textContent = table.description;
    const box = document.createElement('div');
    box.className = 'chart-box';
    const canvas = document.createElement('canvas');
    canvas.setAttribute('role', 'img');
    box.append(canvas);
    const actions = document.createElement('p');
    actions.className = 'card-actions';
    const link = document.createElement('a');
    link.href = `#table/${encodeURIComponent(table.name)}`;
    link.textContent = `Open table: ${table.title}`;
    actions.append(link);
    card.append(title, text, box, actions);
    cards.append(card);
    const data = await api(`/api/tables/${encodeURIComponent(table.name)}`);
    draw(canvas, chartFor(table, data.rows, chartableMeasures(table)[0], {}));
  }
}

// ---------------------------------------------------------------- table view

async function openTable(name) {
  const table = state.tables.find((t) => t.name === name);
  if (!table) {
    setStatus(`There is no table '${name}'.`);
    return;
  }
  if (state.table !== table) {
    state.table = table;
    state.filters = {};
    state.sort = [];
    state.measure = chartableMeasures(table)[0];
    state.allRows = (await api(`/api/tables/${encodeURIComponent(name)}`)).rows;
  }
  $('table-view').hidden = false;
  document.title = `${table.title} — Statistics portal`;
  $('table-title').textContent = table.title;
  $('table-description').textContent = table.description;
  renderFilters();
  await refreshTable();
}

function renderFilters() {
  const { table } = state;
  const fields = table.dimensions.map((dimension) => {
    const field = document.createElement('div');
    field.className = 'field';
    const id = `filter-${dimension}`;
    const labelEl = document.createElement('label');
    labelEl.htmlFor = id;
    labelEl.textContent = label(dimension);
    const select = document.createElement('select');
    select.id = id;
    select.dataset.dimension = dimension;
    const values = [...new Set(state.allRows.map((r) => r[dimension]))].sort((a, b) =>
      a === 'Total' ? 1 : b === 'Total' ? -1 : String(a).localeCompare(String(b), 'en', { numeric: true }),
    );
    select.append(
      new Option('All', ''),
      ...values.map((v) => new Option(v === 'Total' ? 'Total (all together)' : label(v), v)),
    );
    select.value = state.filters[dimension] ?? '';
    select.addEventListener('change', () => {
      if (select.value) state.filters[dimension] = select.value;
      else delete state.filters[dimension];
      void refreshTable();
    });
    field.append(labelEl, select);
    return field;
  });
  $('filter-fields').replaceChildren(...fields);
  const measureSelect = $('measure-select');
  measureSelect.replaceChildren(...chartableMeasures(table).map((m) => new Option(describeColumn(m), m)));
  measureSelect.value = state.measure;
}

$('measure-select').addEventListener('change', (event) => {
  state.measure = event.target.value;
  void refreshTable();
});

function describeColumn(name) {
  const column = state.table.columns.find((c) => c.name === name);
  return column?.description ? column.description : label(name);
}

function tableQuery(format) {
  const params = new URLSearchParams();
  for (const [dimension, value] of Object.entries(state.filters)) params.append(dimension, value);
  if (state.sort.length > 0)
    params.set('sort', state.sort.map((s) => (s.descending ? `-${s.column}` : s.column)).join(','));
  if (format) params.set('format', format);
  const query = params.toString();
  return `/api/tables/${encodeURIComponent(state.table.name)}${query ? `?${query}` : ''}`;
}

let refreshes = 0;
async function refreshTable() {
  setStatus('Loading…');
  // Only the latest selection is drawn, whatever order the answers arrive in.
  const ticket = ++refreshes;
  const data = await api(tableQuery());
  if (ticket !== refreshes) return;
  state.rows = data.rows;
  const spec = chartFor(state.table, data.rows, state.measure, state.filters);
  $('chart-caption').textContent = spec ? spec.caption : 'No chart for this selection: choose fewer filters.';
  const chart = draw($('table-chart'), spec);
  $('table-chart').dataset.drawn = chart ? 'true' : 'false';
  renderDataTable($('data-table'), state.table.columns, data.rows, {
    sortable: true,
    caption: `${data.rowCount} rows`,
  });
  setStatus(
    `${data.rowCount} ${data.rowCount === 1 ? 'row' : 'rows'}${spec && spec.suppressedCount > 0 ? `; ${spec.suppressedCount} suppressed ${spec.suppressedCount === 1 ? 'cell' : 'cells'} in the chart` : ''}.`,
  );
}

/** A data table: status columns are folded into their value cells. */
function renderDataTable(tableEl, columns, rows, { sortable = false, caption = '' } = {}) {
  const names = new Set(columns.map((c) => c.name));
  const shown = columns.filter((c) => !(c.name.endsWith('_status') && names.has(c.name.slice(0, -'_status'.length))));
  const numeric = (c) => /INT|DOUBLE|FLOAT|DECIMAL|REAL/.test(c.type);
  const dimensions = new Set(state.table && sortable ? state.table.dimensions : []);

  const captionEl = document.createElement('caption');
  captionEl.textContent = caption;
  const head = document.createElement('thead');
  const headRow = document.createElement('tr');
  for (const column of shown) {
    const th = document.createElement('th');
    th.scope = 'col';
    if (numeric(column)) th.className = 'num';
    if (column.description) th.title = column.description;
    if (sortable) {
      const current = state.sort.find((s) => s.column === column.name);
      th.setAttribute('aria-sort', current ? (current.descending ? 'descending' : 'ascending') : 'none');
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = label(column.name);
      button.addEventListener('click', () => {
        state.sort = !current
          ? [{ column: column.name, descending: false }]
          : current.descending
            ? []
            : [{ column: column.name, descending: true }];
        void refreshTable();
      });
      th.append(button);
    } else {
      th.textContent = column.name;
    }
    headRow.append(th);
  }
  head.append(headRow);

  const body = document.createElement('tbody');
  for (const row of rows) {
    const tr = document.createElement('tr');
    if ([...dimensions].some((d) => row[d] === 'Total')) tr.className = 'total';
    for (const column of shown) {
      const td = document.createElement('td');
      const status = row[`${column.name}_status`];
      const value = row[column.name];
      if (status === 'suppressed') {
        td.className = 'suppressed';
        td.textContent = 'suppressed';
        td.title = 'Suppressed (disclosure control)';
      } else if (status === 'empty') {
        td.className = 'num empty';
        td.textContent = '–';
        td.title = 'No value: a mean or share of no units';
      } else {
        if (numeric(column)) td.className = 'num';
        const text =
          value === null || value === undefined
            ? ''
            : numeric(column)
              ? formatNumber(value)
              : dimensions.has(column.name)
                ? label(value)
                : typeof value === 'object'
                  ? JSON.stringify(value)
                  : String(value);
        td.textContent = status === 'rounded' ? `≈ ${text}` : text;
        if (status === 'rounded') td.title = 'Rounded (disclosure control)';
      }
      tr.append(td);
    }
    body.append(tr);
  }
  tableEl.replaceChildren(captionEl, head, body);
}

// ---------------------------------------------------------------- downloads

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const extension = { csv: 'csv', json: 'json', arrow: 'arrows' };

for (const button of document.querySelectorAll('[data-download]')) {
  button.addEventListener('click', async () => {
    const format = button.dataset.download;
    try {
      const blob =
        format === 'json'
          ? new Blob([JSON.stringify(await api(tableQuery('json')), null, 2)], { type: 'application/json' })
          : await api(tableQuery(format), { format });
      saveBlob(blob, `${state.table.name}.${extension[format]}`);
      setStatus(`Downloaded ${state.table.name}.${extension[format]}.`);
    } catch (error) {
      setStatus(`Download failed: ${error.message}`);
    }
  });
}

// ---------------------------------------------------------------- SQL

async function runSql(format, download) {
  const sql = $('sql-input').value;
  const error = $('sql-error');
  error.hidden = true;
  try {
    if (download) {
      const blob =
        format === 'json'
          ? new Blob([JSON.stringify(await api('/api/query', { method: 'POST', body: { sql } }), null, 2)], {
              type: 'application/json',
            })
          : await api('/api/query', { method: 'POST', body: { sql, format }, format });
      saveBlob(blob, `query.${extension[format]}`);
      return;
    }
    const result = await api('/api/query', { method: 'POST', body: { sql } });
    $('sql-warnings').replaceChildren(
      ...result.warnings.map((w) => Object.assign(document.createElement('li'), { textContent: w })),
    );
    renderDataTable($('sql-table'), result.columns, result.rows, { caption: `${result.rowCount} rows` });
    setStatus(`${result.rowCount} ${result.rowCount === 1 ? 'row' : 'rows'}.`);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

$('sql-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void runSql('json', false);
});
for (const button of document.querySelectorAll('[data-sql-download]')) {
  button.addEventListener('click', () => void runSql(button.dataset.sqlDownload, true));
}

// ---------------------------------------------------------------- start

if (token()) void signIn(token());
else showLogin('');

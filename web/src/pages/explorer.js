// Flows explorer: an nfdump filter (syntax errors underlined), the range, a statistic or
// an aggregation, order and limit; a sortable table of the answer, the equivalent
// `sluice query` command line, and CSV export. The form lives in the route, so a result
// can be linked to.

import { callApi, runQuery } from '../api.js';
import { h, notice } from '../dom.js';
import { filterBox } from '../filter_box.js';
import { formatDuration, formatTime, human } from '../format.js';
import { fieldCell } from '../links.js';
import { navigate, withParams } from '../router.js';
import { dataTable } from '../table.js';
import { apiWindow, rangeLinkParams, rangePicker, resolveRange } from '../time_range.js';

const STATISTICS = ['srcip', 'dstip', 'ip', 'srcport', 'dstport', 'port', 'proto', 'router', 'srcas', 'dstas', 'inif', 'outif', 'srcnet', 'dstnet', 'tos', 'flags'];
const STAT_ORDERS = ['flows', 'packets', 'bytes', 'pps', 'bps', 'bpp'];
const RECORD_ORDERS = ['', 'tstart', 'tend', 'flows', 'packets', 'bytes', 'pps', 'bps', 'bpp'];
const RECORD_FIELDS = ['first', 'duration', 'proto', 'src_addr', 'src_port', 'dst_addr', 'dst_port', 'tcp_flags', 'packets', 'bytes', 'exporter', 'in_if', 'out_if'];

// The POST /api/v1/query body for the form's values.
function queryBody(form, window) {
  const body = { filter: form.filter, ...apiWindow(window), limit: Number(form.limit) || 100 };
  if (form.mode === 'stat') body.stat = `${form.stat}/${form.statOrder}`;
  if (form.mode === 'aggregate') body.aggregate = form.aggregate || 'srcip,dstip';
  if (form.mode !== 'stat' && form.order) body.order = form.order;
  return body;
}

function formOf(params) {
  return {
    filter: params.get('filter') ?? '',
    mode: params.get('mode') ?? 'flows',
    stat: params.get('stat') ?? 'srcip',
    statOrder: params.get('statorder') ?? 'bytes',
    aggregate: params.get('aggregate') ?? 'srcip,dstip',
    order: params.get('order') ?? '',
    limit: params.get('limit') ?? '100',
  };
}

function recordColumns(range) {
  return RECORD_FIELDS.map((field) => {
    const numeric = ['packets', 'bytes', 'src_port', 'dst_port', 'duration', 'in_if', 'out_if', 'tcp_flags'].includes(field);
    if (field === 'first') return { key: field, label: 'start', value: (row) => row.first, render: (row) => formatTime(row.first) };
    if (field === 'duration') return { key: field, label: 'duration', numeric, value: (row) => row.last - row.first, render: (row) => formatDuration(row.last - row.first) };
    if (field === 'bytes') return { key: field, label: 'bytes', numeric, render: (row) => human(row.bytes, 'B') };
    if (field === 'packets') return { key: field, label: 'packets', numeric, render: (row) => human(row.packets) };
    return { key: field, label: field, numeric, render: (row) => fieldCell(field, row[field], range) };
  });
}

function groupColumns(rows, range) {
  const keyFields = rows.length ? Object.keys(rows[0].key) : [];
  return [
    ...keyFields.map((field) => ({ key: `key.${field}`, label: field, value: (row) => row.key[field], render: (row) => fieldCell(field, row.key[field], range) })),
    { key: 'flows', label: 'flows', numeric: true },
    { key: 'packets', label: 'packets', numeric: true },
    { key: 'bytes', label: 'bytes', numeric: true },
    { key: 'first', label: 'first', render: (row) => formatTime(row.first) },
    { key: 'last', label: 'last', render: (row) => formatTime(row.last) },
  ];
}

async function downloadCsv(body, button) {
  button.disabled = true;
  try {
    const text = await callApi('POST', '/api/v1/query', { body: { ...body, format: 'csv' }, text: true });
    const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    const link = h('a', { href: url, download: 'sluice-flows.csv' });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } finally {
    button.disabled = false;
  }
}

export async function renderExplorer(root, route) {
  const { params } = route;
  const window = resolveRange(params);
  const range = rangeLinkParams(params);
  const form = formOf(params);
  const filter = filterBox({ value: form.filter });
  const select = (name, values, selected, label) => h('label', {}, label, ' ',
    h('select', { name }, values.map((value) => h('option', { value, selected: value === selected }, value || '(none)'))));
  const modeSelect = h('select', { name: 'mode' },
    [['flows', 'list flows'], ['stat', 'statistic (-s)'], ['aggregate', 'aggregate (-A)']].map(([value, text]) =>
      h('option', { value, selected: value === form.mode }, text)));
  const statFields = h('span', { className: 'mode-fields', hidden: form.mode !== 'stat' },
    select('stat', STATISTICS, form.stat, 'Statistic'), select('statorder', STAT_ORDERS, form.statOrder, 'by'));
  const aggregateFields = h('span', { className: 'mode-fields', hidden: form.mode !== 'aggregate' },
    h('label', {}, 'Aggregate ', h('input', { name: 'aggregate', value: form.aggregate, size: 24, spellcheck: 'false', 'aria-label': 'Aggregate fields' })));
  const orderFields = h('span', { className: 'mode-fields', hidden: form.mode === 'stat' },
    select('order', RECORD_ORDERS, form.order, 'Order'));
  modeSelect.addEventListener('change', () => {
    statFields.hidden = modeSelect.value !== 'stat';
    aggregateFields.hidden = modeSelect.value !== 'aggregate';
    orderFields.hidden = modeSelect.value === 'stat';
  });
  const limitInput = h('input', { name: 'limit', type: 'number', min: 1, max: 10000, value: form.limit, 'aria-label': 'Limit' });
  const formElement = h('form', {
    className: 'explorer-form',
    onSubmit: (event) => {
      event.preventDefault();
      const data = new FormData(formElement);
      navigate('explorer', '', withParams(params, {
        filter: filter.input.value.trim(), mode: data.get('mode'), stat: data.get('stat'), statorder: data.get('statorder'),
        aggregate: data.get('aggregate'), order: data.get('order') || undefined, limit: data.get('limit'), run: String(Date.now()),
      }));
    },
  },
  h('div', { className: 'form-row' }, filter.element, h('button', { type: 'submit', className: 'primary' }, 'Run')),
  h('div', { className: 'form-row' }, h('label', {}, 'Show ', modeSelect), statFields, aggregateFields, orderFields,
    h('label', {}, 'Limit ', limitInput)));

  const output = h('div', { className: 'explorer-output' });
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, 'Flows explorer')),
    h('div', { className: 'toolbar' }, rangePicker(window, (changes) => navigate('explorer', '', withParams(params, changes)))),
    formElement, output);

  const body = queryBody(form, window);
  output.append(h('p', { className: 'loading' }, 'Running…'));
  try {
    const { command, result } = await runQuery(body);
    const csvButton = h('button', { type: 'button', onClick: () => downloadCsv(body, csvButton) }, 'Export CSV');
    const summary = result.summary ?? {};
    const parts = [
      h('div', { className: 'command-line' }, h('span', { className: 'command-label' }, 'Command line'), h('code', { className: 'command' }, command)),
      h('p', { className: 'result-summary' },
        `${summary.flows ?? 0} flows, ${human(summary.packets ?? 0)} packets, ${human(summary.bytes ?? 0, 'B')} matched in ${(summary.seconds ?? 0).toFixed(3)} s `,
        csvButton),
    ];
    if (form.mode === 'stat') {
      const stat = result.stats?.[0] ?? { rows: [] };
      parts.push(dataTable(groupColumns(stat.rows, range), stat.rows, { sortKey: form.statOrder, caption: `Top ${stat.rows.length} of ${stat.distinct ?? 0} ${form.stat} by ${form.statOrder}` }));
    } else if (form.mode === 'aggregate') {
      const rows = result.records ?? [];
      parts.push(dataTable(groupColumns(rows, range), rows, { sortKey: form.order || undefined, caption: `${rows.length} aggregated records` }));
    } else {
      const rows = result.records ?? [];
      parts.push(dataTable(recordColumns(range), rows, { sortKey: undefined, caption: `${rows.length} flows` }));
    }
    output.replaceChildren(...parts);
  } catch (error) {
    if (error.code === 'bad_filter') {
      filter.showError(error.position, error.message);
      output.replaceChildren();
    } else {
      output.replaceChildren(notice(error.message));
    }
  }
}

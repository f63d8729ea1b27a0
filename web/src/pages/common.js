// Pieces several pages share: the totals line and the top-N tables of a statistic.

import { h } from '../dom.js';
import { exact, human } from '../format.js';
import { fieldCell } from '../links.js';
import { dataTable } from '../table.js';

export function totals(summary) {
  const item = (label, value, title) => h('div', { className: 'total' },
    h('span', { className: 'total-value', title }, value), h('span', { className: 'total-label' }, label));
  return h('div', { className: 'totals', 'aria-label': 'Totals' },
    item('flows', human(summary.flows ?? 0), exact(summary.flows ?? 0)),
    item('packets', human(summary.packets ?? 0), exact(summary.packets ?? 0)),
    item('bytes', human(summary.bytes ?? 0, 'B'), exact(summary.bytes ?? 0)),
    item('avg bit/s', human((summary.avg_bps ?? 0), 'bit/s')),
    item('avg packets/s', human(summary.avg_pps ?? 0)));
}

// A table of one statistic ({stat, order, rows: [{key, flows, packets, bytes}]}).
export function statTable(title, stat, range, { total, keyLabel } = {}) {
  const keyFields = stat && stat.rows.length ? Object.keys(stat.rows[0].key) : [];
  const share = (value, all) => (all > 0 ? `${((100 * value) / all).toFixed(1)}%` : '');
  const columns = [
    ...keyFields.map((field) => ({ key: `key.${field}`, label: keyLabel ?? field, value: (row) => row.key[field], render: (row) => fieldCell(field, row.key[field], range) })),
    { key: 'flows', label: 'flows', numeric: true, render: (row) => human(row.flows) },
    { key: 'packets', label: 'packets', numeric: true, render: (row) => human(row.packets) },
    { key: 'bytes', label: 'bytes', numeric: true, render: (row) => human(row.bytes, 'B') },
  ];
  if (total) columns.push({ key: 'share', label: '% bytes', numeric: true, value: (row) => row.bytes, render: (row) => share(row.bytes, total.bytes) });
  return h('section', { className: 'top-list', 'aria-label': title },
    h('h3', {}, title),
    dataTable(columns, stat ? stat.rows : [], { sortKey: stat?.order ?? 'bytes' }));
}

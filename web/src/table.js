// Sortable tables: a button in each header sorts by that column (again: the other way).

import { h } from './dom.js';

// columns: [{key, label, numeric?, value(row) -> sortable, render(row) -> Node|text}]
export function dataTable(columns, rows, { caption, sortKey, sortDescending = true, empty = 'Nothing here' } = {}) {
  let sort = { key: sortKey, descending: sortDescending };
  const table = h('table', { className: 'data-table' });
  const valueOf = (column, row) => (column.value ? column.value(row) : row[column.key]);

  function render() {
    table.replaceChildren();
    if (caption) table.append(h('caption', {}, caption));
    const headerRow = h('tr', {}, columns.map((column) => {
      const active = sort.key === column.key;
      const state = active ? (sort.descending ? 'descending' : 'ascending') : 'none';
      return h('th', { scope: 'col', 'aria-sort': state, className: column.numeric ? 'numeric' : '' },
        h('button', {
          type: 'button',
          className: 'sort-button',
          onClick: () => {
            sort = { key: column.key, descending: active ? !sort.descending : Boolean(column.numeric) };
            render();
            table.querySelector(`th:nth-child(${columns.indexOf(column) + 1}) button`)?.focus();
          },
        }, column.label, h('span', { className: 'sort-mark', 'aria-hidden': 'true' },
          active ? (sort.descending ? ' ▾' : ' ▴') : '')));
    }));
    const sorted = [...rows];
    const column = columns.find((c) => c.key === sort.key);
    if (column) {
      sorted.sort((a, b) => {
        const left = valueOf(column, a);
        const right = valueOf(column, b);
        const order = typeof left === 'number' && typeof right === 'number'
          ? left - right : String(left ?? '').localeCompare(String(right ?? ''), undefined, { numeric: true });
        return sort.descending ? -order : order;
      });
    }
    const body = h('tbody', {}, sorted.map((row) => h('tr', {}, columns.map((c) =>
      h('td', { className: c.numeric ? 'numeric' : '', dataset: { field: c.key, value: String(valueOf(c, row) ?? '') } }, c.render ? c.render(row) : String(valueOf(c, row) ?? ''))))));
    if (sorted.length === 0) body.append(h('tr', {}, h('td', { colspan: columns.length, className: 'empty' }, empty)));
    table.append(h('thead', {}, headerRow), body);
  }
  render();
  return table;
}

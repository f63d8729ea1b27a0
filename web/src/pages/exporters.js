// Exporters: each exporter's health (last seen, rate, templates, sampling, sequence loss,
// decode errors) and its interfaces with names and counters (GET /api/v1/exporters).

import { callApi } from '../api.js';
import { h, notice } from '../dom.js';
import { exact, formatTime, human } from '../format.js';
import { href } from '../router.js';
import { dataTable } from '../table.js';

function ago(iso) {
  if (!iso) return 'never';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

function health(item) {
  const seconds = item.last_seen ? (Date.now() - Date.parse(item.last_seen)) / 1000 : Infinity;
  const errors = Object.values(item.decode_errors ?? {}).reduce((a, b) => a + b, 0);
  if (seconds > 300) return ['stale', 'no datagram for over 5 minutes'];
  if (errors > 0 || item.sequence_lost > 0 || item.sets_without_template > 0) return ['warning', 'losses or decode errors'];
  return ['ok', 'receiving'];
}

function interfacesTable(item) {
  const columns = [
    { key: 'index', label: 'ifIndex', numeric: true },
    { key: 'name', label: 'name', render: (row) => row.name ?? '' },
    { key: 'description', label: 'description', render: (row) => row.description ?? '' },
    { key: 'speed_bps', label: 'speed', numeric: true, render: (row) => (row.speed_bps ? human(row.speed_bps, 'bit/s') : '') },
    { key: 'status', label: 'status', render: (row) => (row.status === undefined ? '' : `${row.status & 1 ? 'admin up' : 'admin down'}, ${row.status & 2 ? 'oper up' : 'oper down'}`) },
    { key: 'in_octets', label: 'in', numeric: true, render: (row) => (row.in_octets === undefined ? '' : human(row.in_octets, 'B')) },
    { key: 'out_octets', label: 'out', numeric: true, render: (row) => (row.out_octets === undefined ? '' : human(row.out_octets, 'B')) },
    { key: 'errors', label: 'errors in/out', value: (row) => (row.in_errors ?? 0) + (row.out_errors ?? 0), render: (row) => (row.in_errors === undefined ? '' : `${row.in_errors} / ${row.out_errors}`) },
    { key: 'discards', label: 'discards in/out', value: (row) => (row.in_discards ?? 0) + (row.out_discards ?? 0), render: (row) => (row.in_discards === undefined ? '' : `${row.in_discards} / ${row.out_discards}`) },
    { key: 'flows', label: 'flows', render: (row) => h('a', { href: href('explorer', '', { filter: `router ip ${item.exporter} and (in if ${row.index} or out if ${row.index})` }) }, 'flows') },
  ];
  return dataTable(columns, item.interfaces ?? [], { sortKey: 'index', sortDescending: false, empty: 'The exporter has sent no interface names or counters' });
}

export async function renderExporters(root, route) {
  const selected = route.params.get('exporter');
  root.replaceChildren(h('header', { className: 'page-header' }, h('h2', {}, 'Exporters')), h('p', { className: 'loading' }, 'Loading…'));
  let answer;
  try {
    answer = await callApi('GET', '/api/v1/exporters');
  } catch (error) {
    root.replaceChildren(h('h2', {}, 'Exporters'), notice(error.message));
    return;
  }
  const items = answer.items ?? [];
  const columns = [
    { key: 'health', label: 'health', value: (row) => health(row)[0], render: (row) => { const [state, why] = health(row); return h('span', { className: `badge ${state}`, title: why }, state); } },
    { key: 'exporter', label: 'exporter', render: (row) => h('a', { href: `#exporter-${row.exporter}`, className: 'exporter' }, row.exporter) },
    { key: 'source', label: 'source' },
    { key: 'protocol', label: 'protocol' },
    { key: 'last_seen', label: 'last seen', value: (row) => row.last_seen ?? '', render: (row) => h('span', { title: row.last_seen ? formatTime(row.last_seen) : '' }, ago(row.last_seen)) },
    { key: 'flows_per_s', label: 'flows/s', numeric: true, render: (row) => human(row.flows_per_s) },
    { key: 'flows', label: 'flows', numeric: true, render: (row) => exact(row.flows) },
    { key: 'templates', label: 'templates', numeric: true },
    { key: 'sampling', label: 'sampling', value: (row) => row.sampling?.[0]?.rate ?? 1, render: (row) => (row.sampling?.length ? row.sampling.map((s) => `1:${s.rate}`).join(', ') : 'none announced') },
    { key: 'sequence_lost', label: 'sequence lost', numeric: true },
    { key: 'decode', label: 'decode errors', numeric: true, value: (row) => Object.values(row.decode_errors ?? {}).reduce((a, b) => a + b, 0),
      render: (row) => { const entries = Object.entries(row.decode_errors ?? {}); return entries.length ? entries.map(([k, v]) => `${k}: ${v}`).join(', ') : '0'; } },
  ];
  const details = items.map((item) => h('details', { id: `exporter-${item.exporter}`, className: 'exporter-details', open: item.exporter === selected || items.length === 1 },
    h('summary', {}, `${item.exporter} (${item.source}) — ${(item.interfaces ?? []).length} interfaces`),
    h('dl', { className: 'facts' },
      h('dt', {}, 'first seen'), h('dd', {}, item.first_seen ? formatTime(item.first_seen) : 'never'),
      h('dt', {}, 'last seen'), h('dd', {}, item.last_seen ? formatTime(item.last_seen) : 'never'),
      h('dt', {}, 'export packets'), h('dd', {}, `${exact(item.packets)} (${human(item.bytes, 'B')})`),
      h('dt', {}, 'sequence resets'), h('dd', {}, String(item.sequence_resets)),
      h('dt', {}, 'sets before template'), h('dd', {}, String(item.sets_without_template)),
      h('dt', {}, 'flows'), h('dd', {}, h('a', { href: href('explorer', '', { filter: `router ip ${item.exporter}` }) }, 'in the explorer'))),
    interfacesTable(item)));
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, 'Exporters'), h('p', {}, `${items.length} exporter${items.length === 1 ? '' : 's'}`)),
    dataTable(columns, items, { sortKey: 'exporter', sortDescending: false, empty: 'No exporter has sent anything yet' }),
    ...details);
  if (selected) document.getElementById(`exporter-${selected}`)?.scrollIntoView();
}

// Ports and protocols, like nfsen's PortTracker: the top destination ports by bytes,
// packets and flows over time, and the top ports and protocols of the range.

import { fetchSeries, runStatGroups } from '../api.js';
import { timeChart } from '../chart.js';
import { h, notice } from '../dom.js';
import { navigate, withParams } from '../router.js';
import { apiWindow, rangeLinkParams, rangePicker, resolveRange } from '../time_range.js';
import { statTable } from './common.js';

// Each graph shows the top ports by its own metric (as PortTracker does): the ports come
// from the statistic of that metric, the lines from a series limited to them.
const METRICS = [
  { metric: 'bytes', title: 'Top destination ports by bytes: bytes/s', unit: 'B', stat: 0 },
  { metric: 'packets', title: 'Top destination ports by packets: packets/s', unit: '', stat: 1 },
  { metric: 'flows', title: 'Top destination ports by flows: flows/s', unit: '', stat: 2 },
];
const TOP_PORTS = 10;

export async function renderPorts(root, route) {
  const { params } = route;
  const window = resolveRange(params);
  const range = rangeLinkParams(params);
  const change = (changes) => navigate('ports', '', withParams(params, changes));
  const protocol = params.get('proto') ?? '';
  const filter = protocol ? `proto ${protocol}` : '';
  const protoSelect = h('select', { 'aria-label': 'Protocol', onChange: (event) => change({ proto: event.target.value || undefined }) },
    [['', 'all protocols'], ['tcp', 'TCP'], ['udp', 'UDP']].map(([value, text]) => h('option', { value, selected: value === protocol }, text)));
  const charts = h('div', { className: 'charts' });
  const lists = h('div', { className: 'top-lists' });
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, 'Ports and protocols')),
    h('div', { className: 'toolbar' }, rangePicker(window, change), h('label', {}, 'Protocol ', protoSelect)),
    charts, lists);
  const zoom = (from, to) => change({ range: 'custom', from, to });
  const slots = METRICS.map(({ metric }) => {
    const slot = h('div', { className: 'chart-slot', dataset: { chart: `ports-${metric}` } }, h('p', { className: 'loading' }, 'Loading…'));
    charts.append(slot);
    return slot;
  });
  let stats;
  try {
    const { result } = await runStatGroups({ filter, ...apiWindow(window), limit: 15, distinct: false },
      [['dstport/bytes', 'dstport/packets', 'dstport/flows'], ['srcport/bytes'], ['proto/bytes']]);
    stats = result.stats;
  } catch (error) {
    lists.replaceChildren(notice(error.message));
    charts.replaceChildren();
    return;
  }
  const [bytes, packets, flows, sources, protocols] = stats;
  lists.replaceChildren(
    statTable('Destination ports by bytes', bytes, range),
    statTable('Destination ports by packets', packets, range),
    statTable('Destination ports by flows', flows, range),
    statTable('Source ports by bytes', sources, range),
    statTable('Protocols by bytes', protocols, range));
  await Promise.all(METRICS.map(async ({ metric, title, unit, stat }, idx) => {
    const slot = slots[idx];
    const ports = stats[stat].rows.slice(0, TOP_PORTS).map((row) => row.key.dst_port);
    try {
      const portFilter = `dst port in [${ports.join(' ')}]`;
      const answer = ports.length
        ? await fetchSeries({ metric, filter: filter ? `(${filter}) and ${portFilter}` : portFilter, group: 'dstport', top: TOP_PORTS, ...apiWindow(window) })
        : { series: [] };
      // in the statistic's order
      const lines = ports.map((port) => answer.series.find((line) => Number(line.key?.dst_port) === port)).filter(Boolean);
      slot.replaceChildren();
      timeChart(slot, { title, unit, series: lines, onZoom: zoom, syncKey: 'ports' });
    } catch (error) {
      slot.replaceChildren(notice(`${title}: ${error.message}`));
    }
  }));
}

// Ports and protocols, like nfsen's PortTracker: the top destination ports by bytes,
// packets and flows over time, and the top ports and protocols of the range.

import { fetchSeries, runQuery } from '../api.js';
import { timeChart } from '../chart.js';
import { h, notice } from '../dom.js';
import { navigate, withParams } from '../router.js';
import { apiWindow, rangeLinkParams, rangePicker, resolveRange } from '../time_range.js';
import { statTable } from './common.js';

const METRICS = [
  { metric: 'bytes', title: 'Top destination ports: bytes/s', unit: 'B' },
  { metric: 'packets', title: 'Top destination ports: packets/s', unit: '' },
  { metric: 'flows', title: 'Top destination ports: flows/s', unit: '' },
];

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
  const graphs = METRICS.map(async ({ metric, title, unit }) => {
    const slot = h('div', { className: 'chart-slot', dataset: { chart: `ports-${metric}` } });
    charts.append(slot);
    try {
      const answer = await fetchSeries({ metric, filter, group: 'dstport', top: 10, ...apiWindow(window) });
      timeChart(slot, { title, unit, series: answer.series, onZoom: zoom, syncKey: 'ports' });
    } catch (error) {
      slot.replaceChildren(notice(`${title}: ${error.message}`));
    }
  });
  const tables = (async () => {
    try {
      const { result } = await runQuery({ filter, ...apiWindow(window), limit: 15, stat: ['dstport/bytes', 'dstport/packets', 'dstport/flows', 'srcport/bytes', 'proto/bytes'] });
      const [bytes, packets, flows, sources, protocols] = result.stats;
      lists.replaceChildren(
        statTable('Destination ports by bytes', bytes, range),
        statTable('Destination ports by packets', packets, range),
        statTable('Destination ports by flows', flows, range),
        statTable('Source ports by bytes', sources, range),
        statTable('Protocols by bytes', protocols, range));
    } catch (error) {
      lists.replaceChildren(notice(error.message));
    }
  })();
  await Promise.all([...graphs, tables]);
}

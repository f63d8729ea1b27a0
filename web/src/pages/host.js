// Host page: one address's traffic over time (in and out), its peers, ports, protocols
// and flows, and the subscriber/site its flows are mapped to.

import { callApi, fetchSeries, runQuery } from '../api.js';
import { timeChart } from '../chart.js';
import { h, notice } from '../dom.js';
import { formatDuration, formatTime, human, protocolName } from '../format.js';
import { fieldCell } from '../links.js';
import { href, navigate, withParams } from '../router.js';
import { dataTable } from '../table.js';
import { apiWindow, rangeLinkParams, rangePicker, resolveRange } from '../time_range.js';
import { statTable, totals } from './common.js';

export async function renderHost(root, route) {
  const address = route.arg;
  const { params } = route;
  const window = resolveRange(params);
  const range = rangeLinkParams(params);
  const change = (changes) => navigate('host', address, withParams(params, changes));
  const mapping = h('p', { className: 'host-mapping' });
  const summary = h('div', { className: 'summary' });
  const chartSlot = h('div', { className: 'chart-slot', dataset: { chart: 'host-bytes' } });
  const packetSlot = h('div', { className: 'chart-slot', dataset: { chart: 'host-packets' } });
  const lists = h('div', { className: 'top-lists' });
  const flows = h('section', { className: 'host-flows', 'aria-label': 'Flows' });
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, 'Host ', h('span', { className: 'host-address' }, address)), mapping),
    h('div', { className: 'toolbar' }, rangePicker(window, change)),
    summary, h('div', { className: 'charts' }, chartSlot, packetSlot), lists, flows);

  const hostFilter = `host ${address}`;
  const zoom = (from, to) => change({ range: 'custom', from, to });
  const inOut = async (metric, slot, title, unit) => {
    try {
      const [incoming, outgoing] = await Promise.all([
        fetchSeries({ metric, filter: `dst host ${address}`, ...apiWindow(window) }),
        fetchSeries({ metric, filter: `src host ${address}`, ...apiWindow(window) }),
      ]);
      const line = (answer, name, color) => ({ name, color, points: answer.series[0]?.points ?? [] });
      timeChart(slot, { title, unit, syncKey: 'host', onZoom: zoom,
        series: [line(incoming, 'in', '#59a14f'), line(outgoing, 'out', '#4e79a7')].filter((s) => s.points.length) });
    } catch (error) {
      slot.replaceChildren(notice(`${title}: ${error.message}`));
    }
  };
  const topLists = async () => {
    try {
      const { result } = await runQuery({ filter: hostFilter, ...apiWindow(window), limit: 11, stat: ['ip/bytes', 'port/bytes', 'proto/bytes'] });
      summary.replaceChildren(totals(result.summary));
      const [peers, ports, protocols] = result.stats;
      const others = { ...peers, rows: peers.rows.filter((row) => row.key.src_addr !== address).slice(0, 10) };
      lists.replaceChildren(
        statTable('Peers', others, range, { keyLabel: 'peer' }),
        statTable('Ports (either side)', { ...ports, rows: ports.rows.slice(0, 10) }, range, { keyLabel: 'port' }),
        statTable('Protocols', protocols, range));
    } catch (error) {
      lists.replaceChildren(notice(error.message));
    }
  };
  const flowList = async () => {
    try {
      const answer = await callApi('GET', '/api/v1/flows', { params: { filter: hostFilter, ...apiWindow(window), limit: 100 } });
      const records = answer.result.records ?? [];
      const subscribers = new Set(records.map((r) => r.subscriber).filter(Boolean));
      const sites = new Set(records.map((r) => r.site).filter(Boolean));
      const mapped = (field, names) => (names.size
        ? [...names].map((name) => h('a', { href: href('explorer', '', { ...range, filter: `${field} "${name}"` }) }, name))
        : ['–']);
      mapping.replaceChildren(...(subscribers.size || sites.size
        ? ['Subscriber: ', ...mapped('subscriber', subscribers), ' · Site: ', ...mapped('site', sites)]
        : ['No subscriber or site mapped to this address']));
      const columns = [
        { key: 'first', label: 'start', render: (row) => formatTime(row.first) },
        { key: 'duration', label: 'duration', numeric: true, value: (row) => row.last - row.first, render: (row) => formatDuration(row.last - row.first) },
        { key: 'proto', label: 'proto', render: (row) => protocolName(row.proto) },
        ...['src_addr', 'src_port', 'dst_addr', 'dst_port'].map((field) => ({ key: field, label: field, numeric: field.endsWith('port'), render: (row) => fieldCell(field, row[field], range) })),
        { key: 'packets', label: 'packets', numeric: true, render: (row) => human(row.packets) },
        { key: 'bytes', label: 'bytes', numeric: true, render: (row) => human(row.bytes, 'B') },
        { key: 'exporter', label: 'exporter', render: (row) => fieldCell('exporter', row.exporter, range) },
      ];
      flows.replaceChildren(h('h3', {}, `Flows (first ${records.length})`), dataTable(columns, records, { sortKey: 'first', sortDescending: false }));
    } catch (error) {
      flows.replaceChildren(notice(error.message));
    }
  };
  await Promise.all([inOut('bytes', chartSlot, 'Bytes/s in and out', 'B'), inOut('packets', packetSlot, 'Packets/s in and out', ''), topLists(), flowList()]);
}

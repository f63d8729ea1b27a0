// Overview: flows/s, packets/s and bytes/s over the range (nfsen's three graphs), split by
// protocol or by exporter; totals; top talkers, destinations, ports and protocols. A saved
// view shows the same page for its filter.

import { fetchSeries, runStatGroups } from '../api.js';
import { timeChart } from '../chart.js';
import { h, notice } from '../dom.js';
import { protocolName } from '../format.js';
import { navigate, withParams } from '../router.js';
import { apiWindow, rangeLinkParams, rangePicker, resolveRange } from '../time_range.js';
import { statTable, totals } from './common.js';

const METRICS = [
  { metric: 'flows', title: 'Flows/s', unit: '' },
  { metric: 'packets', title: 'Packets/s', unit: '' },
  { metric: 'bytes', title: 'Bytes/s', unit: 'B' },
];

// The protocol split's series, in this fixed order; every other protocol is folded into
// "other". ICMPv6 is not folded into ICMP, so an IPv6 network's ICMP stays visible.
const PROTOCOL_SERIES = [6, 17, 1, 58];

// Folds per-protocol series into TCP, UDP, ICMP, ICMPv6 and other (in that order, each
// only if it has flows; names as protocolName() writes them everywhere else).
function byProtocolGroup(series) {
  const lines = new Map([...PROTOCOL_SERIES.map((number) => [protocolName(number), null]), ['other', null]]);
  for (const line of series) {
    const number = line.key ? Number(line.key.proto) : NaN;
    const name = PROTOCOL_SERIES.includes(number) ? protocolName(number) : 'other';
    const existing = lines.get(name);
    if (!existing) {
      lines.set(name, { name, points: line.points.map(([ms, value]) => [ms, value]) });
    } else {
      // sum by time: two series need not have the same timestamps
      const index = new Map(existing.points.map((point, idx) => [point[0], idx]));
      for (const [ms, value] of line.points) {
        if (index.has(ms)) existing.points[index.get(ms)][1] += value;
        else existing.points.push([ms, value]);
      }
      existing.points.sort((a, b) => a[0] - b[0]);
    }
  }
  return [...lines.values()].filter(Boolean);
}

function seriesRequest(metric, split, filter, window) {
  const params = { metric, filter, ...apiWindow(window) };
  if (split === 'protocol') Object.assign(params, { group: 'proto', top: 50 });
  if (split === 'exporter') Object.assign(params, { group: 'exporter', top: 10 });
  return fetchSeries(params);
}

// Renders the overview of `filter` into `root`; `route` supplies the range and split.
export async function renderOverview(root, route, { filter = '', title = 'Overview', page = 'overview', arg = '', intro } = {}) {
  const { params } = route;
  const window = resolveRange(params);
  const split = params.get('split') ?? 'protocol';
  const range = rangeLinkParams(params);
  const change = (changes) => navigate(page, arg, withParams(params, changes));
  const splitSelect = h('select', { 'aria-label': 'Split graphs by', onChange: (event) => change({ split: event.target.value }) },
    ['protocol', 'exporter', 'none'].map((value) => h('option', { value, selected: value === split }, `by ${value}`)));
  const charts = h('div', { className: 'charts' });
  const lists = h('div', { className: 'top-lists' });
  const summary = h('div', { className: 'summary' });
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, title), intro,
      filter ? h('p', { className: 'page-filter' }, 'Filter: ', h('code', {}, filter)) : null),
    h('div', { className: 'toolbar' }, rangePicker(window, change), h('label', {}, 'Graphs ', splitSelect)),
    summary, charts, lists);

  const zoom = (from, to) => change({ range: 'custom', from, to });
  const graphs = METRICS.map(async ({ metric, title, unit }) => {
    const slot = h('div', { className: 'chart-slot', dataset: { chart: metric } }, h('p', { className: 'loading' }, 'Loading…'));
    charts.append(slot);
    try {
      const { series } = await seriesRequest(metric, split, filter, window);
      slot.replaceChildren();
      const lines = split === 'protocol' ? byProtocolGroup(series) : series;
      timeChart(slot, { title, unit, series: lines, onZoom: zoom, syncKey: 'overview' });
    } catch (error) {
      slot.replaceChildren(notice(`${title}: ${error.message}`));
    }
  });
  const topLists = (async () => {
    try {
      const { result } = await runStatGroups({ filter, ...apiWindow(window), limit: 10, distinct: false },
        [['srcip/bytes'], ['dstip/bytes'], ['dstport/bytes'], ['proto/bytes']]);
      summary.replaceChildren(totals(result.summary));
      const [talkers, destinations, ports, protocols] = result.stats;
      const all = { total: result.summary };
      lists.replaceChildren(
        statTable('Top talkers', talkers, range, all),
        statTable('Top destinations', destinations, range, all),
        statTable('Top ports', ports, range, all),
        statTable('Top protocols', protocols, range, all));
    } catch (error) {
      lists.replaceChildren(notice(`Top lists: ${error.message}`));
    }
  })();
  await Promise.all([...graphs, topLists]);
}

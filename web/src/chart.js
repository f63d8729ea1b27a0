// Time-series graphs with uPlot: one x axis (time), one line per series, drag on the
// plot to zoom (the caller changes the range), graphs of one page share their cursor.
// The uPlot instance stays on the container as `container.uplot` (the browser test reads
// the rendered series from it).

import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h } from './dom.js';
import { formatAxisTime, formatTime, human, timeZoneSetting } from './format.js';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac', '#8cd17d'];

function cssColor(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';
}

// Merges API series ([{name, points: [[ms, value], ...]}]) into uPlot's columns: the
// union of the timestamps (seconds) and one column per series (0 where it has no point).
export function seriesColumns(series) {
  const times = new Set();
  for (const line of series) for (const [ms] of line.points) times.add(ms);
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map(xs.map((ms, idx) => [ms, idx]));
  const columns = series.map((line) => {
    const column = new Array(xs.length).fill(0);
    for (const [ms, value] of line.points) column[index.get(ms)] = value;
    return column;
  });
  return [xs.map((ms) => ms / 1000), ...columns];
}

// A graph in `container`. options: {title, unit, series: [{name, points}], onZoom(fromMs,
// toMs), syncKey, height}.
export function timeChart(container, options) {
  container.classList.add('chart');
  container.setAttribute('role', 'img');
  const total = options.series.reduce((sum, line) => sum + line.points.reduce((s, [, v]) => s + v, 0), 0);
  container.setAttribute('aria-label', `${options.title}: ${options.series.map((s) => s.name).join(', ') || 'no data'}`);
  const heading = h('h3', { className: 'chart-title' }, options.title);
  const plot = h('div', { className: 'chart-plot' });
  container.append(heading, plot);
  if (options.series.length === 0 || total === 0) {
    plot.append(h('p', { className: 'chart-empty' }, 'No flows in this range'));
  }
  const axisColor = cssColor('--fg-muted');
  const gridColor = cssColor('--grid');
  const utc = timeZoneSetting() === 'utc';
  const uplotOptions = {
    width: Math.max(300, container.clientWidth || 600),
    height: options.height ?? 200,
    tzDate: utc ? (seconds) => uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC') : undefined,
    cursor: {
      drag: { x: true, y: false, setScale: false },
      sync: options.syncKey ? { key: options.syncKey } : undefined,
    },
    select: { show: true },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.05 : 1] } },
    axes: [
      {
        stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor },
        values: (u, splits) => {
          const span = (u.scales.x.max - u.scales.x.min) * 1000;
          return splits.map((seconds) => formatAxisTime(seconds * 1000, span));
        },
      },
      {
        stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor }, size: 70,
        values: (u, ticks) => ticks.map((value) => human(value, options.unit)),
      },
    ],
    series: [
      { label: 'Time', value: (u, seconds) => (seconds == null ? '–' : formatTime(seconds * 1000)) },
      ...options.series.map((line, idx) => ({
        label: line.name,
        stroke: line.color ?? PALETTE[idx % PALETTE.length],
        width: 1.5,
        points: { show: false },
        value: (u, value) => (value == null ? '–' : human(value, options.unit)),
      })),
    ],
    hooks: {
      setSelect: [
        (u) => {
          if (u.select.width < 4 || !options.onZoom) return;
          const from = u.posToVal(u.select.left, 'x') * 1000;
          const to = u.posToVal(u.select.left + u.select.width, 'x') * 1000;
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          options.onZoom(Math.floor(from), Math.ceil(to));
        },
      ],
    },
  };
  const chart = new uPlot(uplotOptions, seriesColumns(options.series), plot);
  container.uplot = chart;
  const resize = new ResizeObserver(() => {
    const width = container.clientWidth;
    if (width > 0 && Math.abs(width - chart.width) > 2) chart.setSize({ width, height: chart.height });
  });
  resize.observe(container);
  return chart;
}

// The time range every page shows: a preset (the last 1h, 6h, 24h, 7d, 30d until now) or
// a custom from/to (from the picker or a drag on a graph). Kept in the route as
// range=6h or range=custom&from=MS&to=MS.

import { h } from './dom.js';
import { formatTime, fromDateTimeInput, toDateTimeInput } from './format.js';

export const PRESETS = { '1h': 3600e3, '6h': 6 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };

// {from, to} in epoch ms for the route's parameters (presets end now).
export function resolveRange(params) {
  const range = params.get('range') ?? '1h';
  if (range === 'custom') {
    const from = Number(params.get('from'));
    const to = Number(params.get('to'));
    if (Number.isFinite(from) && Number.isFinite(to) && from < to) return { range, from, to };
  }
  const span = PRESETS[range] ?? PRESETS['1h'];
  const to = Date.now();
  return { range: PRESETS[range] ? range : '1h', from: to - span, to };
}

// The range parameters to carry into links: preset names stay presets.
export function rangeLinkParams(params) {
  const range = params.get('range');
  if (range === 'custom') return { range, from: params.get('from'), to: params.get('to') };
  return range ? { range } : {};
}

// The picker: preset buttons and a custom from/to. `onChange(params)` gets the new
// range parameters ({range} or {range: 'custom', from, to}).
export function rangePicker(window, onChange) {
  const buttons = Object.keys(PRESETS).map((name) =>
    h('button', {
      type: 'button',
      className: 'range-button',
      'aria-pressed': window.range === name ? 'true' : 'false',
      onClick: () => onChange({ range: name, from: undefined, to: undefined }),
    }, name));
  const fromInput = h('input', { type: 'datetime-local', 'aria-label': 'From', value: toDateTimeInput(window.from) });
  const toInput = h('input', { type: 'datetime-local', 'aria-label': 'To', value: toDateTimeInput(window.to) });
  const custom = h('form', {
    className: 'range-custom',
    onSubmit: (event) => {
      event.preventDefault();
      const from = fromDateTimeInput(fromInput.value);
      const to = fromDateTimeInput(toInput.value);
      if (Number.isFinite(from) && Number.isFinite(to) && from < to) onChange({ range: 'custom', from, to });
    },
  }, fromInput, h('span', { 'aria-hidden': 'true' }, '–'), toInput,
  h('button', { type: 'submit', 'aria-pressed': window.range === 'custom' ? 'true' : 'false' }, 'Custom'));
  return h('div', { className: 'range-picker', role: 'group', 'aria-label': 'Time range' },
    buttons, custom,
    h('span', { className: 'range-shown', dataset: { from: window.from, to: window.to } },
      `${formatTime(window.from)} – ${formatTime(window.to)}`));
}

// The window as the API takes it (epoch ms, as text), its start on a whole minute: graphs
// are drawn in whole minutes anyway, and the store's summaries by minute then answer the
// whole range (a window starting within a minute reads that slot's flows).
export function apiWindow(window) {
  const from = Math.floor(window.from / 60000) * 60000;
  return { from: String(from), to: String(Math.floor(window.to)) };
}

// The nfdump filter box: a text input with a copy of its text drawn behind it, where the
// part at a syntax error's column (the API's "position") is underlined.

import { h } from './dom.js';

export function filterBox({ value = '', label = 'Filter', placeholder = 'e.g. proto tcp and dst port 443' } = {}) {
  const input = h('input', {
    type: 'text', className: 'filter-input', value, placeholder, spellcheck: 'false', autocomplete: 'off',
    'aria-label': label, name: 'filter',
  });
  const mirror = h('div', { className: 'filter-mirror', 'aria-hidden': 'true' });
  const message = h('p', { className: 'filter-message', role: 'alert', id: `filter-message-${Math.random().toString(36).slice(2)}` });
  input.setAttribute('aria-describedby', message.id);
  const field = h('div', { className: 'filter-field' }, mirror, input);
  const element = h('div', { className: 'filter-box' }, field, message);
  input.addEventListener('scroll', () => { mirror.scrollLeft = input.scrollLeft; });
  input.addEventListener('input', () => clearError());

  // Underlines the word at 1-based `position` (or a space past the end) and shows `text`.
  function showError(position, text) {
    const content = input.value;
    const start = Math.max(0, Math.min(content.length, (position ?? 1) - 1));
    let end = start;
    while (end < content.length && !/\s/.test(content[end])) end += 1;
    if (end === start) end = Math.min(content.length, start + 1);
    const marked = content.slice(start, end) || '\u00a0\u00a0\u00a0'; // past the end: a gap to underline
    mirror.replaceChildren(content.slice(0, start), h('span', { className: 'syntax-error', dataset: { position: String(start + 1) } }, marked), content.slice(end));
    mirror.scrollLeft = input.scrollLeft;
    input.setAttribute('aria-invalid', 'true');
    message.textContent = text;
    element.classList.add('has-error');
  }

  function clearError() {
    mirror.replaceChildren();
    input.removeAttribute('aria-invalid');
    message.textContent = '';
    element.classList.remove('has-error');
  }

  return { element, input, showError, clearError };
}

// The nfdump filter box: a text input with a copy of its text drawn behind it, where the
// part at a syntax error's column (the API's "position") is underlined. The copy is moved
// with the input's horizontal scroll, and an error scrolls the input to its column, so
// the underline stays under its characters and in sight on a filter longer than the box.

import { h } from './dom.js';

export function filterBox({ value = '', label = 'Filter', placeholder = 'e.g. proto tcp and dst port 443' } = {}) {
  const input = h('input', {
    type: 'text', className: 'filter-input', value, placeholder, spellcheck: 'false', autocomplete: 'off',
    'aria-label': label, name: 'filter',
  });
  // mirror: the input's box (same border and padding), clipping; text: the copy of the
  // input's text, shifted left by the input's scrollLeft.
  const text = h('div', { className: 'filter-mirror-text' });
  const mirror = h('div', { className: 'filter-mirror', 'aria-hidden': 'true' }, text);
  const message = h('p', { className: 'filter-message', role: 'alert', id: `filter-message-${Math.random().toString(36).slice(2)}` });
  input.setAttribute('aria-describedby', message.id);
  const field = h('div', { className: 'filter-field' }, mirror, input);
  const element = h('div', { className: 'filter-box' }, field, message);

  const follow = () => { text.style.transform = `translateX(${-input.scrollLeft}px)`; };
  // Moving the caret (keys, clicks) scrolls the input and fires `scroll`; the others are
  // for browsers that scroll without telling.
  for (const type of ['scroll', 'keyup', 'pointerup', 'focus', 'select']) input.addEventListener(type, follow);
  input.addEventListener('input', () => clearError());
  // Chromium scrolls an input back to its start when it loses focus: bring the error back.
  input.addEventListener('blur', () => requestAnimationFrame(() => {
    if (document.activeElement !== input && mark()) reveal();
  }));

  const mark = () => text.querySelector('.syntax-error');

  // Scrolls the input so that the underlined part is in sight (with some text before it
  // when the input is scrolled at all), then moves the copy with it.
  function reveal() {
    const marked = mark();
    if (!marked) return;
    const style = getComputedStyle(input);
    const visible = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const left = marked.offsetLeft;
    const right = left + marked.offsetWidth;
    if (left < input.scrollLeft || right > input.scrollLeft + visible) {
      // the mark's start a third in, or further if its end would not fit; a gap past the
      // end of the text lies in the right padding when the input is scrolled to its end
      input.scrollLeft = Math.max(0, Math.min(left, Math.max(left - visible / 3, right - visible)));
    }
    follow();
  }

  // Underlines the word at 1-based `position` (or a gap past the end), shows `text` (naming
  // the column), and, unless the user has moved on to another control, puts the caret there.
  function showError(position, errorText) {
    const content = input.value;
    const start = Math.max(0, Math.min(content.length, (position ?? 1) - 1));
    let end = start;
    while (end < content.length && !/\s/.test(content[end])) end += 1;
    if (end === start) end = Math.min(content.length, start + 1);
    const marked = content.slice(start, end) || '\u00a0\u00a0'; // past the end: a gap to underline
    text.replaceChildren(content.slice(0, start), h('span', { className: 'syntax-error', dataset: { position: String(start + 1) } }, marked), content.slice(end));
    input.setAttribute('aria-invalid', 'true');
    message.textContent = describe(errorText, start + 1);
    element.classList.add('has-error');
    const active = document.activeElement;
    if (!active || active === document.body || active === input || (input.form && input.form.contains(active))) {
      input.focus();
      input.setSelectionRange(start, start);
    }
    reveal();
  }

  function clearError() {
    text.replaceChildren();
    text.style.transform = '';
    input.removeAttribute('aria-invalid');
    message.textContent = '';
    element.classList.remove('has-error');
  }

  return { element, input, showError, clearError };
}

// The API's message ("at column 12: expected ..."), as a sentence that names the column.
function describe(errorText, column) {
  const said = errorText ?? '';
  if (/^at column \d+/i.test(said)) return `Syntax error ${said}`;
  if (/\bcolumn \d+/i.test(said)) return said;
  return `Syntax error at column ${column}: ${said}`;
}

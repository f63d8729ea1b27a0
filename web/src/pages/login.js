// Login: the API token is checked with one request and kept in sessionStorage only.

import { ApiError, callApi, forgetToken, saveToken } from '../api.js';
import { h, notice } from '../dom.js';
import { navigate } from '../router.js';

export function renderLogin(root, route) {
  const input = h('input', { type: 'password', name: 'token', required: true, autocomplete: 'off', spellcheck: 'false', 'aria-label': 'API token', placeholder: 'sluice_…' });
  const status = h('div', { className: 'form-status' });
  const form = h('form', {
    className: 'login-form',
    onSubmit: async (event) => {
      event.preventDefault();
      saveToken(input.value.trim());
      try {
        await callApi('GET', '/api/v1/views');
        const next = route.params.get('next');
        if (next && next.startsWith('#/') && !next.startsWith('#/login')) location.hash = next;
        else navigate('overview');
      } catch (error) {
        forgetToken();
        status.replaceChildren(notice(error instanceof ApiError && error.status === 401 ? 'That token is not valid (revoked, mistyped or unknown).' : error.message));
      }
    },
  },
  h('h2', {}, 'Log in to Sluice'),
  h('p', {}, 'Paste an API token (', h('code', {}, 'sluice token create --role read'), ', or the admin token printed at the first start). It is kept for this browser tab only.'),
  h('label', {}, 'API token ', input),
  h('button', { type: 'submit', className: 'primary' }, 'Log in'),
  status);
  root.replaceChildren(form);
  input.focus();
}

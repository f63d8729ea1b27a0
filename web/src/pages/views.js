// Saved views ("profiles" in nfsen): a named filter with its own graphs and top lists.
// Listing needs a read token; creating, editing and deleting an admin token.

import { callApi } from '../api.js';
import { h, notice } from '../dom.js';
import { filterBox } from '../filter_box.js';
import { formatTime } from '../format.js';
import { href, navigate } from '../router.js';
import { dataTable } from '../table.js';
import { renderOverview } from './overview.js';

function viewForm(existing, onSaved) {
  const name = h('input', { name: 'name', required: true, maxlength: 64, value: existing?.name ?? '', 'aria-label': 'View name' });
  const filter = filterBox({ value: existing?.filter ?? '', label: 'View filter' });
  const description = h('input', { name: 'description', maxlength: 1024, value: existing?.description ?? '', 'aria-label': 'Description' });
  const status = h('div', { className: 'form-status' });
  const form = h('form', {
    className: 'view-form',
    onSubmit: async (event) => {
      event.preventDefault();
      status.replaceChildren();
      const body = { name: name.value.trim(), filter: filter.input.value.trim(), description: description.value };
      try {
        const view = existing
          ? await callApi('PUT', `/api/v1/views/${encodeURIComponent(existing.id)}`, { body })
          : await callApi('POST', '/api/v1/views', { body });
        onSaved(view);
      } catch (error) {
        if (error.code === 'bad_filter') filter.showError(error.position, error.message);
        else status.replaceChildren(notice(error.status === 403 ? 'Saving views needs an admin token' : error.message));
      }
    },
  },
  h('h3', {}, existing ? `Edit “${existing.name}”` : 'New view'),
  h('div', { className: 'form-row' }, h('label', {}, 'Name ', name)),
  h('div', { className: 'form-row' }, h('span', { className: 'field-label' }, 'Filter'), filter.element),
  h('div', { className: 'form-row' }, h('label', {}, 'Description ', description)),
  h('div', { className: 'form-row' }, h('button', { type: 'submit', className: 'primary' }, existing ? 'Save changes' : 'Create view'),
    existing ? h('a', { href: '#/views', className: 'button' }, 'Cancel') : null),
  status);
  return form;
}

export async function renderViews(root, route) {
  if (route.arg) {
    return renderView(root, route);
  }
  const editing = route.params.get('edit');
  root.replaceChildren(h('header', { className: 'page-header' }, h('h2', {}, 'Saved views')), h('p', { className: 'loading' }, 'Loading…'));
  let views;
  try {
    views = (await callApi('GET', '/api/v1/views')).items;
  } catch (error) {
    root.replaceChildren(h('h2', {}, 'Saved views'), notice(error.message));
    return;
  }
  const status = h('div', { className: 'form-status' });
  const remove = async (view) => {
    if (!window.confirm(`Delete the view “${view.name}”?`)) return;
    try {
      await callApi('DELETE', `/api/v1/views/${encodeURIComponent(view.id)}`);
      renderViews(root, route);
    } catch (error) {
      status.replaceChildren(notice(error.status === 403 ? 'Deleting views needs an admin token' : error.message));
    }
  };
  const columns = [
    { key: 'name', label: 'name', render: (view) => h('a', { href: href('views', view.id) }, view.name) },
    { key: 'filter', label: 'filter', render: (view) => h('code', {}, view.filter || '(all flows)') },
    { key: 'description', label: 'description' },
    { key: 'updated_ms', label: 'changed', numeric: true, render: (view) => formatTime(view.updated_ms) },
    { key: 'actions', label: 'actions', value: () => '', render: (view) => h('span', { className: 'actions' },
      h('a', { href: href('views', '', { edit: view.id }), className: 'button' }, 'Edit'),
      h('button', { type: 'button', onClick: () => remove(view) }, 'Delete')) },
  ];
  const existing = editing ? views.find((view) => view.id === editing) : null;
  root.replaceChildren(
    h('header', { className: 'page-header' }, h('h2', {}, 'Saved views'),
      h('p', {}, 'A view is a named filter with its own graphs and top lists. Changing views needs an admin token.')),
    dataTable(columns, views, { sortKey: 'name', sortDescending: false, empty: 'No views yet' }),
    status,
    viewForm(existing, (view) => navigate('views', view.id)));
}

async function renderView(root, route) {
  let view;
  try {
    view = await callApi('GET', `/api/v1/views/${encodeURIComponent(route.arg)}`);
  } catch (error) {
    root.replaceChildren(h('h2', {}, 'Saved view'), notice(error.message));
    return;
  }
  const intro = h('p', {}, view.description || '', ' ', h('a', { href: href('views', '', { edit: view.id }) }, 'Edit this view'));
  await renderOverview(root, route, { filter: view.filter, title: `View: ${view.name}`, page: 'views', arg: view.id, intro });
}

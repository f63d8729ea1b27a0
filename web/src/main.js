// The Sluice dashboard: a header with the pages, the time zone and theme switches, and
// the page of the current route. Every page talks to the server through api.js only.

import './style.css';
import { currentToken, forgetToken } from './api.js';
import { h } from './dom.js';
import { setTimeZoneSetting, timeZoneSetting } from './format.js';
import { currentRoute, href } from './router.js';
import { renderExplorer } from './pages/explorer.js';
import { renderExporters } from './pages/exporters.js';
import { renderHost } from './pages/host.js';
import { renderLogin } from './pages/login.js';
import { renderOverview } from './pages/overview.js';
import { renderPorts } from './pages/ports.js';
import { renderViews } from './pages/views.js';

const PAGES = {
  overview: { title: 'Overview', render: (root, route) => renderOverview(root, route) },
  explorer: { title: 'Flows', render: renderExplorer },
  host: { title: 'Host', render: renderHost, hidden: true },
  ports: { title: 'Ports', render: renderPorts },
  exporters: { title: 'Exporters', render: renderExporters },
  views: { title: 'Views', render: renderViews },
};

const THEME_KEY = 'sluice.theme';

function applyTheme() {
  const stored = localStorage.getItem(THEME_KEY);
  const dark = stored ? stored === 'dark' : window.matchMedia('(prefers-color-scheme: dark)').matches;
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
}

function header(route) {
  const rangeCarry = {};
  for (const name of ['range', 'from', 'to']) if (route.params.get(name)) rangeCarry[name] = route.params.get(name);
  const links = Object.entries(PAGES).filter(([, page]) => !page.hidden).map(([name, page]) =>
    h('a', { href: href(name, '', name === 'exporters' ? {} : rangeCarry), 'aria-current': route.page === name ? 'page' : null }, page.title));
  const zone = timeZoneSetting();
  const theme = document.documentElement.dataset.theme;
  return h('header', { className: 'site-header' },
    h('a', { href: '#main', className: 'skip-link' }, 'Skip to content'),
    h('h1', {}, h('a', { href: '#/overview' }, 'Sluice')),
    h('nav', { 'aria-label': 'Pages' }, links),
    h('div', { className: 'header-tools' },
      h('button', {
        type: 'button', className: 'zone-toggle', title: 'Show times in UTC or in this browser\'s time zone',
        'aria-pressed': zone === 'utc' ? 'true' : 'false',
        onClick: () => { setTimeZoneSetting(zone === 'utc' ? 'local' : 'utc'); render(); },
      }, zone === 'utc' ? 'UTC' : `Local (${Intl.DateTimeFormat().resolvedOptions().timeZone})`),
      h('button', {
        type: 'button', className: 'theme-toggle', 'aria-label': `Switch to the ${theme === 'dark' ? 'light' : 'dark'} theme`,
        onClick: () => { localStorage.setItem(THEME_KEY, theme === 'dark' ? 'light' : 'dark'); applyTheme(); render(); },
      }, theme === 'dark' ? 'Light theme' : 'Dark theme'),
      currentToken() ? h('button', { type: 'button', onClick: () => { forgetToken(); location.hash = '#/login'; } }, 'Log out') : null));
}

let renderCount = 0;

async function render() {
  const route = currentRoute();
  const app = document.getElementById('app');
  if (!currentToken() && route.page !== 'login') {
    location.replace(href('login', '', { next: location.hash || '#/overview' }));
    return;
  }
  const page = route.page === 'login' ? { title: 'Log in', render: renderLogin } : PAGES[route.page];
  const main = h('main', { id: 'main', tabindex: '-1' });
  app.replaceChildren(route.page === 'login' ? h('header', { className: 'site-header' }, h('h1', {}, 'Sluice')) : header(route), main);
  document.title = `${page ? page.title : 'Not found'} · Sluice`;
  if (!page) {
    main.append(h('h2', {}, 'No such page'), h('p', {}, h('a', { href: '#/overview' }, 'Go to the overview')));
    return;
  }
  const count = ++renderCount;
  document.body.dataset.loading = 'true';
  try {
    await page.render(main, route);
  } finally {
    if (count === renderCount) document.body.dataset.loading = 'false';
  }
}

applyTheme();
window.addEventListener('hashchange', render);
window.addEventListener('sluice:unauthorized', () => {
  if (currentRoute().page !== 'login') location.hash = href('login', '', { next: location.hash });
});
render();

// Hash routes: #/overview?range=6h, #/host/192.0.2.1?range=24h, ... Everything a page
// shows is in its route, so a link or a reload shows the same thing.

export function currentRoute() {
  const hash = location.hash.replace(/^#/, '') || '/overview';
  const question = hash.indexOf('?');
  const path = question < 0 ? hash : hash.slice(0, question);
  const params = new URLSearchParams(question < 0 ? '' : hash.slice(question + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] ?? 'overview', arg: parts.slice(1).join('/'), params };
}

// '#/host/10.0.0.1?range=1h' from ('host', '10.0.0.1', {range: '1h'}).
export function href(page, arg, params) {
  let hash = `#/${page}`;
  if (arg) hash += `/${encodeURIComponent(arg)}`;
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
  }
  const encoded = query.toString();
  return encoded ? `${hash}?${encoded}` : hash;
}

export function navigate(page, arg, params) {
  location.hash = href(page, arg, params);
}

// The route's parameters as an object, with `changes` applied (undefined removes).
export function withParams(params, changes) {
  const merged = Object.fromEntries(params.entries());
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

// The dashboard's only way to the server: the HTTP API of docs/api.md, with the token
// the user logged in with. The token lives in sessionStorage only (gone with the tab).

const TOKEN_KEY = 'sluice.token';

export function currentToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function saveToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, code, message, position) {
    super(message);
    this.status = status;
    this.code = code;
    this.position = position; // 1-based column of a filter syntax error
  }
}

// Calls the API. `params` become the query string (empty values left out); `body` is
// sent as JSON. Answers the parsed JSON, or the text with { text: true }.
export async function callApi(method, path, { params, body, text } = {}) {
  let url = path;
  if (params) {
    const query = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (value !== undefined && value !== null && value !== '') query.set(name, String(value));
    }
    const encoded = query.toString();
    if (encoded) url += `?${encoded}`;
  }
  const headers = { Accept: 'application/json' };
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(url, init);
  const answer = await response.text();
  if (!response.ok) {
    let error = { code: 'http_error', message: `HTTP ${response.status}` };
    try {
      error = JSON.parse(answer).error ?? error;
    } catch {
      // not a JSON error body
    }
    if (response.status === 401) {
      forgetToken();
      window.dispatchEvent(new CustomEvent('sluice:unauthorized'));
    }
    throw new ApiError(response.status, error.code, error.message, error.position);
  }
  return text ? answer : JSON.parse(answer);
}

// POST /api/v1/query: {command, result}.
export function runQuery(body) {
  return callApi('POST', '/api/v1/query', { body });
}

// Several statistics of one filter and window, as one query per group of `groups` (arrays
// of stat specs) sent at once: the server answers each group from the smallest store
// files that hold its keys (docs/retention.md), which one query for all could not.
// Answers {result: {summary, stats}} with the stats in the order of `groups`, flattened.
export async function runStatGroups(body, groups) {
  const answers = await Promise.all(groups.map((stat) => runQuery({ ...body, stat })));
  return { result: { summary: answers[0].result.summary, stats: answers.flatMap((answer) => answer.result.stats) } };
}

// GET /api/v1/series: {metric, step_s, series: [{name, key?, other?, points}]}.
export function fetchSeries(params) {
  return callApi('GET', '/api/v1/series', { params });
}

// The panel's only way to the server: the public /v1.0 API with the operator's token (X-Auth-Token, docs/api.md).
// The token and account are kept in sessionStorage (gone when the tab closes); a 401 signs out and shows sign-in.

const KEY = 'tether.panel.session';

/** {account, token} or null. */
export function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    return value && value.token && value.account ? value : null;
  } catch {
    return null;
  }
}

export function saveSession(account, token) {
  sessionStorage.setItem(KEY, JSON.stringify({ account: String(account), token }));
}

export function clearSession() {
  sessionStorage.removeItem(KEY);
}

/** An API error answer: status, message, details and the validation messages ("field: text"). */
export class ApiError extends Error {
  constructor(status, body) {
    const fault = body?.overLimit ?? body ?? {};
    super(fault.message ?? `HTTP ${status}`);
    this.status = status;
    this.details = fault.details ?? '';
    this.messages = body?.validationErrors?.messages ?? [];
  }

  /** One line for a toast or a form's error box. */
  describe() {
    if (this.messages.length) return this.messages.join('\n');
    return this.details ? `${this.message}: ${this.details}` : this.message;
  }
}

/** Calls the API: api('GET', '/loadbalancers'). Returns the parsed body (null when empty); throws ApiError. */
export async function api(method, path, body) {
  const current = session();
  if (!current) {
    window.dispatchEvent(new CustomEvent('tether:unauthorized'));
    throw new ApiError(401, { message: 'Not signed in' });
  }

  const headers = { 'X-Auth-Token': current.token, Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(`/v1.0/${encodeURIComponent(current.account)}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
    });
  } catch (e) {
    throw new ApiError(0, { message: 'Tether cannot be reached', details: String(e.message ?? e) });
  }

  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { message: text };
    }
  }

  if (response.status === 401) {
    clearSession();
    window.dispatchEvent(new CustomEvent('tether:unauthorized', { detail: data }));
    throw new ApiError(401, data);
  }

  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** Checks a token for an account without keeping it: true when the API accepts it. */
export async function checkToken(account, token) {
  const response = await fetch(`/v1.0/${encodeURIComponent(account)}/loadbalancers?limit=1`, {
    headers: { 'X-Auth-Token': token, Accept: 'application/json' },
    cache: 'no-store',
    credentials: 'omit',
  });
  if (response.status === 401) return false;
  if (!response.ok) {
    let data = null;
    try { data = await response.json(); } catch { /* empty */ }
    throw new ApiError(response.status, data);
  }
  return true;
}

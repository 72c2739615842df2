// The "Edit Session Persistence" dialog (seed 001: reached from the cog wheel, the Actions menu and the pencil in
// Optional Features). Types and ranges follow the API (SessionPersistenceValidator, docs/api.md "Session persistence"):
// HTTP_COOKIE, APP_COOKIE and HEADER on HTTP load balancers only, SOURCE_IP everywhere; the stickiness duration is
// persistenceTimeout in seconds, shown in minutes: 1 to 1440 on HTTP, 1 to 60 on every other protocol.
import { api } from './api.js';
import { h, toast } from './dom.js';
import { openFormDialog } from './dialog.js';
import { field, select, checkbox, value, number, toggle } from './forms.js';

export const PERSISTENCE_TYPES = [
  { value: 'HTTP_COOKIE', label: 'HTTP cookie (HTTP_COOKIE)', httpOnly: true, text: 'Tether inserts a signed cookie that names no node.' },
  { value: 'APP_COOKIE', label: 'Application cookie (APP_COOKIE)', httpOnly: true, text: 'Follows a cookie your application sets.' },
  { value: 'SOURCE_IP', label: 'Source IP (SOURCE_IP)', httpOnly: false, text: 'Keeps each client address on one node (any protocol).' },
  { value: 'HEADER', label: 'Request header (HEADER)', httpOnly: true, text: 'Keeps each value of a request header on one node.' },
];

/** The allowed stickiness duration in minutes for a protocol (the API's rule, in seconds 60..86400 or 60..3600). */
export function durationRange(protocol) {
  return protocol === 'HTTP' ? { min: 1, max: 1440 } : { min: 1, max: 60 };
}

/** A one-line description of a persistence object ({} when disabled). */
export function describePersistence(p) {
  if (!p || !p.persistenceType) return 'Disabled';
  const minutes = Math.round((p.persistenceTimeout ?? 1200) / 6) / 10;
  const extra = p.persistenceType === 'APP_COOKIE' ? `, cookie ${p.cookieName}`
    : p.persistenceType === 'HEADER' ? `, header ${p.headerName}` : '';
  return `Enabled: ${p.persistenceType}${extra}, ${minutes} min`;
}

/**
 * Opens the dialog for load balancer lb ({id, name, protocol}). Reads the current setting first; onSaved() runs after
 * a successful change (the caller refreshes its view, no page reload).
 */
export async function editSessionPersistence(lb, onSaved) {
  const current = (await api('GET', `/loadbalancers/${lb.id}/sessionpersistence`))?.sessionPersistence ?? {};
  const enabled = Boolean(current.persistenceType);
  const range = durationRange(lb.protocol);
  const http = lb.protocol === 'HTTP';
  const type = current.persistenceType ?? (http ? 'HTTP_COOKIE' : 'SOURCE_IP');

  return openFormDialog({
    title: 'Edit Session Persistence',
    description: `Load balancer ${lb.name} (${lb.protocol}). Session persistence sends the requests of one client to the same node.`,
    build(body, form) {
      const typeField = select('Persistence type', 'persistenceType', PERSISTENCE_TYPES.map((t) => ({
        value: t.value, label: t.httpOnly && !http ? `${t.label}: HTTP only` : t.label, disabled: t.httpOnly && !http,
      })), { value: type, hint: http ? 'HTTP_COOKIE, APP_COOKIE and HEADER need an HTTP load balancer; SOURCE_IP works on every protocol.' : `A ${lb.protocol} load balancer supports SOURCE_IP only.` });
      const typeText = h('p', { class: 'type-text', 'aria-live': 'polite' });
      const minutes = current.persistenceTimeout ? String(current.persistenceTimeout / 60) : '';
      body.append(
        checkbox('Enable session persistence', 'enabled', { checked: enabled }),
        h('div', { class: 'grid', 'data-group': 'settings' },
          typeField, typeText,
          field('Cookie name', 'cookieName', { value: current.cookieName, hint: '' }),
          field('Header name', 'headerName', { value: current.headerName, placeholder: 'X-Session-Id', hint: 'The request header whose value pins the client.' }),
          field('Stickiness duration (minutes)', 'persistenceTimeout', {
            type: 'number', value: minutes, min: range.min, max: range.max, step: 'any', inputmode: 'decimal', placeholder: '20',
            hint: `${range.min} to ${range.max} minutes on ${http ? 'an HTTP' : `a ${lb.protocol}`} load balancer; default 20. A client idle this long is balanced afresh.`,
          }),
          field('Hash balance factor (%)', 'hashBalanceFactor', {
            type: 'number', value: current.hashBalanceFactor, placeholder: '0', hint: '0 (off) or 101 to 1000: no new client goes to a node loaded above this share of the average.',
          }),
          checkbox('Disable fallback (502 when the pinned node cannot serve)', 'disableFallback', { checked: current.disableFallback }),
          h('fieldset', { class: 'cookie-attributes', 'data-field': 'cookieAttributes' },
            h('legend', {}, 'Cookie attributes'),
            h('div', { class: 'grid' },
              field('Path', 'cookiePath', { value: current.cookiePath, placeholder: '/' }),
              field('Domain', 'cookieDomain', { value: current.cookieDomain, placeholder: 'host only' }),
              select('SameSite', 'cookieSameSite', ['Lax', 'Strict', 'None'], { value: current.cookieSameSite ?? 'Lax' }),
              checkbox('Secure', 'cookieSecure', { checked: current.cookieSecure }),
              checkbox('HttpOnly', 'cookieHttpOnly', { checked: current.cookieHttpOnly ?? true })))));

      const update = () => {
        const on = form.elements.namedItem('enabled').checked;
        const t = form.elements.namedItem('persistenceType').value;
        const settings = form.querySelector('[data-group="settings"]');
        settings.hidden = !on;
        for (const el of settings.querySelectorAll('input, select, textarea')) el.disabled = !on;
        if (!on) return;
        typeText.textContent = PERSISTENCE_TYPES.find((x) => x.value === t)?.text ?? '';
        toggle(form, 'cookieName', t === 'HTTP_COOKIE' || t === 'APP_COOKIE');
        const hint = form.querySelector('[data-field="cookieName"] .hint');
        if (hint) hint.textContent = t === 'APP_COOKIE' ? 'Required: the cookie your application sets (or * for any).' : `Optional; default tether-${lb.id}.`;
        toggle(form, 'headerName', t === 'HEADER');
        toggle(form, 'hashBalanceFactor', t === 'SOURCE_IP' || t === 'HEADER');
        const cookie = form.querySelector('[data-field="cookieAttributes"]');
        cookie.hidden = t !== 'HTTP_COOKIE';
        for (const el of cookie.querySelectorAll('input, select')) el.disabled = t !== 'HTTP_COOKIE';
      };
      form.addEventListener('change', update);
      update();
    },
    async onSubmit(form) {
      if (!value(form, 'enabled')) {
        if (enabled) await api('DELETE', `/loadbalancers/${lb.id}/sessionpersistence`);
        toast(enabled ? `Session persistence disabled on ${lb.name}` : 'Session persistence stays disabled');
        await onSaved?.();
        return true;
      }

      const t = value(form, 'persistenceType');
      const body = { persistenceType: t };
      const minutes = number(form, 'persistenceTimeout');
      if (minutes !== undefined) body.persistenceTimeout = typeof minutes === 'number' ? Math.round(minutes * 60) : minutes;
      if (value(form, 'disableFallback')) body.disableFallback = true;
      if ((t === 'HTTP_COOKIE' || t === 'APP_COOKIE') && value(form, 'cookieName')) body.cookieName = value(form, 'cookieName');
      if (t === 'APP_COOKIE' && !value(form, 'cookieName')) body.cookieName = undefined;
      if (t === 'HEADER' && value(form, 'headerName')) body.headerName = value(form, 'headerName');
      if (t === 'SOURCE_IP' || t === 'HEADER') {
        const factor = number(form, 'hashBalanceFactor');
        if (factor !== undefined) body.hashBalanceFactor = factor;
      }
      if (t === 'HTTP_COOKIE') {
        if (value(form, 'cookiePath')) body.cookiePath = value(form, 'cookiePath');
        if (value(form, 'cookieDomain')) body.cookieDomain = value(form, 'cookieDomain');
        body.cookieSameSite = value(form, 'cookieSameSite');
        body.cookieSecure = value(form, 'cookieSecure');
        body.cookieHttpOnly = value(form, 'cookieHttpOnly');
      }
      await api('PUT', `/loadbalancers/${lb.id}/sessionpersistence`, { sessionPersistence: body });
      toast(`Session persistence on ${lb.name}: ${t}`);
      await onSaved?.();
      return true;
    },
  });
}

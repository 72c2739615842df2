// The sign-in screen and the list of load balancers.
import { api, checkToken, saveSession, ApiError } from './api.js';
import { h, icon, badge, replace } from './dom.js';
import { menuButton } from './menu.js';
import { field } from './forms.js';
import { editSessionPersistence } from './persistence.js';
import { createLoadBalancer, deleteLoadBalancer } from './lbforms.js';

export function renderSignIn(main, notice) {
  const error = h('div', { class: 'form-error', role: 'alert', hidden: !notice }, notice ?? '');
  const form = h('form', { class: 'signin-form', novalidate: true },
    h('h1', {}, 'Sign in to Tether'),
    h('p', { class: 'muted' }, 'Give an API token of your account. On first start Tether writes an admin token for account 1 to <data dir>/admin-token. The token is kept in this tab only.'),
    error,
    field('Account', 'account', { type: 'number', value: '1', min: 1 }),
    field('API token', 'token', { type: 'password', autocomplete: 'current-password' }),
    h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const account = form.elements.namedItem('account').value.trim();
    const token = form.elements.namedItem('token').value.trim();
    error.hidden = true;
    if (!/^\d+$/.test(account) || !token) {
      replace(error, 'Give the account number and a token.');
      error.hidden = false;
      return;
    }
    try {
      if (!(await checkToken(account, token))) {
        replace(error, `The token was refused for account ${account}.`);
        error.hidden = false;
        form.elements.namedItem('token').focus();
        return;
      }
    } catch (e) {
      replace(error, e instanceof ApiError ? e.describe() : String(e));
      error.hidden = false;
      return;
    }
    saveSession(account, token);
    window.dispatchEvent(new CustomEvent('tether:signedin'));
  });
  replace(main, h('section', { class: 'signin' }, form));
  form.elements.namedItem('token').focus();
}

async function listAll() {
  const all = [];
  let marker = '';
  for (;;) {
    const page = await api('GET', `/loadbalancers?limit=100${marker}`);
    all.push(...page.loadBalancers);
    if (page.loadBalancers.length < 100) return all;
    marker = `&marker=${page.loadBalancers[page.loadBalancers.length - 1].id + 1}`;
  }
}

function vipText(vips) {
  return (vips ?? []).map((v) => `${v.address} (${v.type === 'SERVICENET' ? 'ServiceNet' : v.ipVersion === 'IPV6' ? 'Public IPv6' : 'Public'})`).join(', ') || '—';
}

/** The list view. Returns a cleanup function. */
export async function renderList(main, go) {
  const table = h('div', { class: 'card' }, h('p', { class: 'loading' }, 'Loading load balancers…'));
  const create = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => createLoadBalancer((lb) => go(`#/lb/${lb.id}`)) }, icon('plus'), 'Create Load Balancer');
  replace(main, h('div', { class: 'page-header' }, h('h1', {}, 'Load Balancers'), create), table);

  async function load() {
    const summaries = await listAll();
    // The list answer has no persistence: each load balancer is read (a handful of GETs on a typical account).
    const details = await Promise.all(summaries.map((s) => api('GET', `/loadbalancers/${s.id}`).then((d) => d.loadBalancer).catch(() => s)));
    if (!details.length) {
      replace(table, h('div', { class: 'empty-state' }, h('h2', {}, 'No load balancers yet'),
        h('p', {}, 'Create one over your nodes; Tether starts listening at once.')));
      return;
    }
    const rows = details.map((lb) => h('tr', {},
      h('td', {}, h('div', { class: 'name-cell' },
        h('a', { href: `#/lb/${lb.id}`, class: 'lb-link' }, lb.name),
        menuButton({
          ariaLabel: `Settings for ${lb.name}`, iconName: 'cog', className: 'btn btn-icon',
          items: [
            { label: 'Edit Session Persistence', onSelect: () => editSessionPersistence(lb, load).catch(report) },
            { label: 'View Details', onSelect: () => go(`#/lb/${lb.id}`) },
            { label: 'Delete Load Balancer', danger: true, onSelect: () => deleteLoadBalancer(lb, load) },
          ],
        }))),
      h('td', {}, lb.protocol), h('td', { class: 'num' }, lb.port), h('td', {}, vipText(lb.virtualIps)),
      h('td', {}, lb.algorithm), h('td', {}, badge(lb.status)),
      h('td', {}, lb.sessionPersistence?.persistenceType ?? h('span', { class: 'muted' }, 'None')),
      h('td', { class: 'num' }, lb.nodeCount ?? lb.nodes?.length ?? 0)));
    replace(table, h('table', { class: 'table', 'aria-label': 'Load balancers' },
      h('thead', {}, h('tr', {}, ['Name', 'Protocol', 'Port', 'Virtual IPs', 'Algorithm', 'Status', 'Persistence', 'Nodes']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)));
  }

  function report(e) {
    replace(table, h('div', { class: 'form-error', role: 'alert' }, e instanceof ApiError ? e.describe() : String(e)));
  }

  await load().catch(report);
  return () => {};
}

// The "Optional Features" forms of a load balancer: health monitor, access list, connection throttle, SSL termination,
// error page, connection logging and content caching (docs/api.md "Health monitor", "Access control", "SSL termination",
// "Content caching"). Each form reads the current state, writes with PUT/POST and removes with DELETE.
import { api } from './api.js';
import { h, toast } from './dom.js';
import { openFormDialog } from './dialog.js';
import { field, select, checkbox, textarea, value, number, toggle } from './forms.js';

const base = (lb) => `/loadbalancers/${lb.id}`;

export async function editHealthMonitor(lb, onSaved) {
  const current = (await api('GET', `${base(lb)}/healthmonitor`))?.healthMonitor ?? {};
  const has = Boolean(current.type);
  const types = [{ value: 'CONNECT', label: 'CONNECT (TCP connection)' }, { value: 'HTTP', label: 'HTTP request' }, { value: 'HTTPS', label: 'HTTPS request' }];
  return openFormDialog({
    title: 'Edit Health Monitor', wide: true,
    description: 'Every delay seconds each node is probed; after the given failed probes in a row it goes OFFLINE, one passing probe brings it back.',
    extraActions: has ? [{ label: 'Remove Monitor', danger: true, onClick: async () => {
      await api('DELETE', `${base(lb)}/healthmonitor`); toast('Health monitor removed'); await onSaved?.(); return true;
    } }] : [],
    build(body, form) {
      body.append(h('div', { class: 'grid' },
        select('Type', 'type', types, { value: current.type ?? (lb.protocol === 'HTTP' ? 'HTTP' : 'CONNECT') }),
        field('Delay (seconds)', 'delay', { type: 'number', value: current.delay ?? 10, hint: '1 to 3600 between probes.' }),
        field('Timeout (seconds)', 'timeout', { type: 'number', value: current.timeout ?? 5, hint: '1 to 300 for one probe.' }),
        field('Attempts before deactivation', 'attemptsBeforeDeactivation', { type: 'number', value: current.attemptsBeforeDeactivation ?? 3, hint: '1 to 10.' }),
        field('Path', 'path', { value: current.path ?? '/', hint: 'Starts with /.' }),
        field('Status regex', 'statusRegex', { value: current.statusRegex, placeholder: '^[234][0-9][0-9]$' }),
        field('Body regex', 'bodyRegex', { value: current.bodyRegex }),
        field('Host header', 'hostHeader', { value: current.hostHeader })));
      const update = () => {
        const http = value(form, 'type') !== 'CONNECT';
        for (const name of ['path', 'statusRegex', 'bodyRegex', 'hostHeader']) toggle(form, name, http);
      };
      form.addEventListener('change', update);
      update();
    },
    async onSubmit(form) {
      const type = value(form, 'type');
      const body = { type, delay: number(form, 'delay'), timeout: number(form, 'timeout'), attemptsBeforeDeactivation: number(form, 'attemptsBeforeDeactivation') };
      if (type !== 'CONNECT') {
        body.path = value(form, 'path');
        for (const name of ['statusRegex', 'bodyRegex', 'hostHeader']) if (value(form, name)) body[name] = value(form, name);
      }
      await api('PUT', `${base(lb)}/healthmonitor`, { healthMonitor: body });
      toast('Health monitor saved');
      await onSaved?.();
      return true;
    },
  });
}

export async function editAccessList(lb, onSaved) {
  const load = async () => (await api('GET', `${base(lb)}/accesslist?limit=100`))?.accessList ?? [];
  let items = await load();
  return openFormDialog({
    title: 'Edit Access List', submitLabel: 'Add Rule', wide: true,
    description: 'ALLOW wins over DENY; an address that matches no rule is let in. Refused clients are disconnected.',
    extraActions: [{ label: 'Remove All Rules', danger: true, onClick: async () => {
      await api('DELETE', `${base(lb)}/accesslist`); toast('Access list cleared'); await onSaved?.(); return true;
    } }],
    build(body, form) {
      const table = h('div', { class: 'rules' });
      const render = () => table.replaceChildren(items.length
        ? h('table', { class: 'table compact' },
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Address'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Remove')))),
          h('tbody', {}, items.map((item) => h('tr', {},
            h('td', {}, item.address), h('td', {}, item.type),
            h('td', { class: 'actions' }, h('button', {
              type: 'button', class: 'btn btn-danger-ghost btn-small', 'aria-label': `Remove rule ${item.address}`,
              onclick: async () => {
                await api('DELETE', `${base(lb)}/accesslist/${item.id}`);
                items = await load(); render(); await onSaved?.();
                form.querySelector('input[name="address"]')?.focus();
              },
            }, 'Remove'))))))
        : h('p', { class: 'empty' }, 'No rules: every client is let in.'));
      render();
      body.append(table, h('div', { class: 'grid' },
        field('Address or network', 'address', { placeholder: '203.0.113.0/24' }),
        select('Type', 'type', ['DENY', 'ALLOW'], { value: 'DENY' })));
      form.renderRules = render;
    },
    async onSubmit(form) {
      await api('POST', `${base(lb)}/accesslist`, { accessList: [{ address: value(form, 'address'), type: value(form, 'type') }] });
      toast(`Rule ${value(form, 'address')} added`);
      items = await load();
      form.renderRules();
      form.elements.namedItem('address').value = '';
      await onSaved?.();
      return false;
    },
  });
}

export async function editConnectionThrottle(lb, onSaved) {
  const current = (await api('GET', `${base(lb)}/connectionthrottle`))?.connectionThrottle ?? {};
  const has = current.maxConnections !== undefined;
  return openFormDialog({
    title: 'Edit Connection Throttle',
    description: 'Caps the concurrent connections of one client address; over it, HTTP requests get 503 and TCP connections are closed.',
    extraActions: has ? [{ label: 'Remove Throttle', danger: true, onClick: async () => {
      await api('DELETE', `${base(lb)}/connectionthrottle`); toast('Connection throttle removed'); await onSaved?.(); return true;
    } }] : [],
    build(body) {
      body.append(h('div', { class: 'grid' },
        field('Max connections per client', 'maxConnections', { type: 'number', value: current.maxConnections ?? 50, hint: '0 (no limit) to 100000.' }),
        field('Min connections (legacy)', 'minConnections', { type: 'number', value: current.minConnections }),
        field('Max connection rate (legacy)', 'maxConnectionRate', { type: 'number', value: current.maxConnectionRate }),
        field('Rate interval (seconds, legacy)', 'rateInterval', { type: 'number', value: current.rateInterval })));
    },
    async onSubmit(form) {
      const body = {};
      for (const name of ['maxConnections', 'minConnections', 'maxConnectionRate', 'rateInterval']) {
        const n = number(form, name);
        if (n !== undefined) body[name] = n;
      }
      await api('PUT', `${base(lb)}/connectionthrottle`, { connectionThrottle: body });
      toast('Connection throttle saved');
      await onSaved?.();
      return true;
    },
  });
}

export async function editSslTermination(lb, onSaved) {
  const current = (await api('GET', `${base(lb)}/ssltermination`))?.sslTermination ?? {};
  const has = current.securePort !== undefined;
  return openFormDialog({
    title: 'Edit SSL Termination', wide: true,
    description: 'Tether terminates TLS on the secure port and feeds the requests into the same nodes and persistence. HTTP load balancers only.',
    extraActions: has ? [{ label: 'Remove SSL Termination', danger: true, onClick: async () => {
      await api('DELETE', `${base(lb)}/ssltermination`); toast('SSL termination removed'); await onSaved?.(); return true;
    } }] : [],
    build(body) {
      body.append(h('div', { class: 'grid' },
        field('Secure port', 'securePort', { type: 'number', value: current.securePort ?? 443 }),
        checkbox('Enabled', 'enabled', { checked: current.enabled ?? true }),
        checkbox('Secure traffic only (no plain HTTP listener)', 'secureTrafficOnly', { checked: current.secureTrafficOnly }),
        textarea('Certificate (PEM)', 'certificate', { value: current.certificate, hint: has ? 'Give a new certificate and key together, or leave both to keep the current ones.' : 'Required.' }),
        textarea('Private key (PEM)', 'privateKey', { placeholder: has ? 'kept (not shown)' : '-----BEGIN PRIVATE KEY-----' }),
        textarea('Intermediate certificates (PEM)', 'intermediateCertificate', { value: current.intermediateCertificate, rows: 3 })));
    },
    async onSubmit(form) {
      const body = { securePort: number(form, 'securePort'), enabled: value(form, 'enabled'), secureTrafficOnly: value(form, 'secureTrafficOnly') };
      const key = value(form, 'privateKey');
      if (key || !has) {
        body.certificate = value(form, 'certificate');
        body.privateKey = key;
        if (value(form, 'intermediateCertificate')) body.intermediateCertificate = value(form, 'intermediateCertificate');
      }
      await api('PUT', `${base(lb)}/ssltermination`, { sslTermination: body });
      toast('SSL termination saved');
      await onSaved?.();
      return true;
    },
  });
}

export async function editErrorPage(lb, onSaved) {
  const current = (await api('GET', `${base(lb)}/errorpage`))?.errorpage?.content ?? '';
  return openFormDialog({
    title: 'Edit Error Page', wide: true,
    description: "The HTML Tether sends with its own 502, 503 and 504 answers (HTTP load balancers).",
    extraActions: [{ label: 'Restore Default', danger: true, onClick: async () => {
      await api('DELETE', `${base(lb)}/errorpage`); toast('Default error page restored'); await onSaved?.(); return true;
    } }],
    build(body) {
      body.append(textarea('Content (HTML)', 'content', { value: current, rows: 12, hint: 'At most 65536 characters.' }));
    },
    async onSubmit(form) {
      await api('PUT', `${base(lb)}/errorpage`, { errorpage: { content: form.elements.namedItem('content').value } });
      toast('Error page saved');
      await onSaved?.();
      return true;
    },
  });
}

function toggleFeature(lb, { title, path, root, label, description, enabled, onSaved }) {
  return openFormDialog({
    title, description,
    build(body) { body.append(checkbox(label, 'enabled', { checked: enabled })); },
    async onSubmit(form) {
      await api('PUT', `${base(lb)}/${path}`, { [root]: { enabled: value(form, 'enabled') } });
      toast(`${title.replace('Edit ', '')}: ${value(form, 'enabled') ? 'on' : 'off'}`);
      await onSaved?.();
      return true;
    },
  });
}

export function editConnectionLogging(lb, onSaved) {
  return toggleFeature(lb, {
    title: 'Edit Connection Logging', path: 'connectionlogging', root: 'connectionLogging', label: 'Log every request or connection',
    description: `One line per HTTP request or TCP connection in <data dir>/logs/lb-${lb.id}.log (HAProxy httplog fields).`,
    enabled: lb.connectionLogging?.enabled, onSaved,
  });
}

export function editContentCaching(lb, onSaved) {
  return toggleFeature(lb, {
    title: 'Edit Content Caching', path: 'contentcaching', root: 'contentCaching', label: 'Cache cacheable answers in memory',
    description: 'HTTP load balancers only; answers with Set-Cookie are never stored.', enabled: lb.contentCaching?.enabled, onSaved,
  });
}

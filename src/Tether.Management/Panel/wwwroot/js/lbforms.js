// Create, edit and delete load balancers; add, edit and remove nodes (docs/api.md "Load balancers", "Nodes").
import { api } from './api.js';
import { h, toast } from './dom.js';
import { openFormDialog, confirmDialog } from './dialog.js';
import { field, select, checkbox, textarea, value, number } from './forms.js';

let catalogs = null;

/** The protocols and algorithms catalogs, read once. */
export async function loadCatalogs() {
  catalogs ??= Promise.all([api('GET', '/loadbalancers/protocols'), api('GET', '/loadbalancers/algorithms')])
    .then(([p, a]) => ({ protocols: p.protocols, algorithms: a.algorithms.map((x) => x.name) }))
    .catch((e) => { catalogs = null; throw e; });
  return catalogs;
}

/** "127.0.0.1:9001" or "[::1]:9001" per line -> node objects; throws with a message naming the line. */
export function parseNodes(text) {
  const nodes = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const match = /^\[([^\]]+)\]:(\d+)$/.exec(line) ?? /^([^:\s]+):(\d+)$/.exec(line);
    if (!match) throw new Error(`line ${index + 1}: give ADDRESS:PORT (IPv6 as [ADDRESS]:PORT), got '${line}'`);
    nodes.push({ address: match[1], port: Number(match[2]), condition: 'ENABLED' });
  }
  return nodes;
}

export async function createLoadBalancer(onCreated) {
  const { protocols, algorithms } = await loadCatalogs();
  return openFormDialog({
    title: 'Create Load Balancer', submitLabel: 'Create Load Balancer', wide: true,
    build(body, form) {
      body.append(h('div', { class: 'grid' },
        field('Name', 'name', { placeholder: 'web' }),
        select('Protocol', 'protocol', protocols.map((p) => ({ value: p.name, label: `${p.name}${p.port ? ` (${p.port})` : ''}` })), { value: 'HTTP' }),
        field('Port', 'port', { type: 'number', value: '80', min: 1, max: 65535 }),
        select('Algorithm', 'algorithm', algorithms, { value: 'ROUND_ROBIN' }),
        select('Virtual IP', 'virtualIps', [
          { value: 'PUBLIC', label: 'Public IPv4' }, { value: 'PUBLIC6', label: 'Public IPv6' }, { value: 'SERVICENET', label: 'ServiceNet (private)' },
        ], { value: 'PUBLIC' }),
        textarea('Nodes', 'nodes', { rows: 4, placeholder: '10.0.0.5:8080\n10.0.0.6:8080', hint: 'One ADDRESS:PORT per line (IPv6 as [ADDRESS]:PORT); at least one, at most 25.' })));
      form.elements.namedItem('protocol').addEventListener('change', (e) => {
        const p = protocols.find((x) => x.name === e.target.value);
        if (p?.port) form.elements.namedItem('port').value = p.port;
      });
    },
    async onSubmit(form) {
      let nodes;
      try {
        nodes = parseNodes(value(form, 'nodes'));
      } catch (e) {
        throw Object.assign(new Error(), { messages: [`nodes: ${e.message}`] });
      }
      const vip = value(form, 'virtualIps');
      const created = await api('POST', '/loadbalancers', {
        loadBalancer: {
          name: value(form, 'name'), protocol: value(form, 'protocol'), port: number(form, 'port'), algorithm: value(form, 'algorithm'),
          virtualIps: [vip === 'PUBLIC6' ? { type: 'PUBLIC', ipVersion: 'IPV6' } : { type: vip }], nodes,
        },
      });
      toast(`Load balancer ${created.loadBalancer.name} created`);
      await onCreated?.(created.loadBalancer);
      return true;
    },
  });
}

export async function editLoadBalancer(lb, onSaved) {
  const { protocols, algorithms } = await loadCatalogs();
  return openFormDialog({
    title: 'Edit Load Balancer', wide: true,
    build(body) {
      body.append(h('div', { class: 'grid' },
        field('Name', 'name', { value: lb.name }),
        select('Protocol', 'protocol', protocols.map((p) => p.name), { value: lb.protocol }),
        field('Port', 'port', { type: 'number', value: lb.port, min: 1, max: 65535 }),
        select('Algorithm', 'algorithm', algorithms, { value: lb.algorithm }),
        field('Timeout (seconds)', 'timeout', { type: 'number', value: lb.timeout, hint: '1 to 120: the longest wait on a node without activity.' }),
        field('Slow start (seconds)', 'slowStartSeconds', { type: 'number', value: lb.slowStartSeconds ?? 0, hint: '0 (off) to 3600.' }),
        checkbox('Half-closed connections (TCP)', 'halfClosed', { checked: lb.halfClosed }),
        checkbox('Redirect HTTP to HTTPS (needs SSL termination)', 'httpsRedirect', { checked: lb.httpsRedirect })));
    },
    async onSubmit(form) {
      const body = {};
      for (const name of ['name', 'protocol', 'algorithm']) if (value(form, name) !== String(lb[name])) body[name] = value(form, name);
      for (const name of ['port', 'timeout', 'slowStartSeconds']) if (number(form, name) !== (lb[name] ?? (name === 'slowStartSeconds' ? 0 : undefined))) body[name] = number(form, name);
      for (const name of ['halfClosed', 'httpsRedirect']) if (value(form, name) !== Boolean(lb[name])) body[name] = value(form, name);
      if (Object.keys(body).length) {
        await api('PUT', `/loadbalancers/${lb.id}`, { loadBalancer: body });
        toast(`Load balancer ${body.name ?? lb.name} updated`);
      }
      await onSaved?.();
      return true;
    },
  });
}

export function deleteLoadBalancer(lb, onDeleted) {
  return confirmDialog({
    title: 'Delete Load Balancer',
    message: `Delete load balancer ${lb.name} (id ${lb.id})? Its listeners stop at once; this cannot be undone.`,
    confirmLabel: 'Delete Load Balancer',
    onConfirm: async () => {
      await api('DELETE', `/loadbalancers/${lb.id}`);
      toast(`Load balancer ${lb.name} deleted`);
      await onDeleted?.();
    },
  });
}

const CONDITIONS = ['ENABLED', 'DRAINING', 'DISABLED'];
const TYPES = ['PRIMARY', 'SECONDARY'];

export function addNode(lb, onSaved) {
  return openFormDialog({
    title: 'Add Node',
    build(body) {
      body.append(h('div', { class: 'grid' },
        field('Address', 'address', { placeholder: '10.0.0.7' }),
        field('Port', 'port', { type: 'number', min: 1, max: 65535 }),
        select('Condition', 'condition', CONDITIONS, { value: 'ENABLED' }),
        select('Type', 'type', TYPES, { value: 'PRIMARY' }),
        field('Weight', 'weight', { type: 'number', value: '1', min: 1, max: 100, hint: '1 to 100.' })));
    },
    async onSubmit(form) {
      const node = { address: value(form, 'address'), port: number(form, 'port'), condition: value(form, 'condition'), type: value(form, 'type') };
      const weight = number(form, 'weight');
      if (weight !== undefined) node.weight = weight;
      await api('POST', `/loadbalancers/${lb.id}/nodes`, { nodes: [node] });
      toast(`Node ${node.address}:${node.port} added`);
      await onSaved?.();
      return true;
    },
  });
}

export function nodeName(node) {
  return node.address.includes(':') ? `[${node.address}]:${node.port}` : `${node.address}:${node.port}`;
}

export function editNode(lb, node, onSaved) {
  return openFormDialog({
    title: `Edit Node ${nodeName(node)}`,
    description: 'DRAINING keeps the clients pinned to the node and sends it no new ones; DISABLED sends it nothing.',
    build(body) {
      body.append(h('div', { class: 'grid' },
        select('Condition', 'condition', CONDITIONS, { value: node.condition }),
        select('Type', 'type', TYPES, { value: node.type }),
        field('Weight', 'weight', { type: 'number', value: node.weight, min: 1, max: 100, hint: '1 to 100.' })));
    },
    async onSubmit(form) {
      const change = {};
      if (value(form, 'condition') !== node.condition) change.condition = value(form, 'condition');
      if (value(form, 'type') !== node.type) change.type = value(form, 'type');
      if (number(form, 'weight') !== node.weight) change.weight = number(form, 'weight');
      if (Object.keys(change).length) {
        await api('PUT', `/loadbalancers/${lb.id}/nodes/${node.id}`, { node: change });
        toast(`Node ${nodeName(node)} updated`);
      }
      await onSaved?.();
      return true;
    },
  });
}

export async function setCondition(lb, node, condition, onSaved) {
  await api('PUT', `/loadbalancers/${lb.id}/nodes/${node.id}`, { node: { condition } });
  toast(`Node ${nodeName(node)} is ${condition}`);
  await onSaved?.();
}

export function removeNode(lb, node, onSaved) {
  return confirmDialog({
    title: 'Remove Node',
    message: `Remove node ${nodeName(node)} from ${lb.name}? Its clients are balanced to the other nodes.`,
    confirmLabel: 'Remove Node',
    onConfirm: async () => {
      await api('DELETE', `/loadbalancers/${lb.id}/nodes/${node.id}`);
      toast(`Node ${nodeName(node)} removed`);
      await onSaved?.();
    },
  });
}

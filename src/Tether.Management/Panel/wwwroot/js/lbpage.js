// A load balancer's page: summary with the Actions menu, nodes with their share, Optional Features (seed 001's third
// path: the pencil next to Session Persistence), and live views (persisted sessions with unpin, statistics, node
// status events) refreshed every few seconds.
import { api, ApiError } from './api.js';
import { h, icon, badge, replace, toast, formatTime, percent } from './dom.js';
import { menuButton } from './menu.js';
import { confirmDialog } from './dialog.js';
import { editSessionPersistence, describePersistence } from './persistence.js';
import { editLoadBalancer, deleteLoadBalancer, addNode, editNode, removeNode, setCondition, nodeName } from './lbforms.js';
import * as features from './features.js';

export const REFRESH_MS = 4000;

/** Keeps focus on the element with the same data-focus-key across a re-render of container. */
function keepFocus(container, render) {
  const key = container.contains(document.activeElement) ? document.activeElement.getAttribute('data-focus-key') : null;
  render();
  if (key) container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
}

function bar(label, fraction, kind) {
  const fill = h('span', { class: `bar-fill bar-${kind}` });
  fill.style.width = `${Math.min(100, Math.max(0, (fraction ?? 0) * 100))}%`;
  return h('div', { class: 'bar-row' }, h('span', { class: 'bar-label' }, label), h('span', { class: 'bar' }, fill), h('span', { class: 'bar-value' }, percent(fraction)));
}

export async function renderLoadBalancer(main, id, go) {
  let lb = null;
  let ssl = {};
  let nodes = [];
  let stats = null;
  let sessions = [];
  let events = [];
  let paused = false;
  let lastUpdate = null;

  const title = h('h1', {});
  const statusBadge = h('span', {});
  const headerActions = h('div', { class: 'header-actions' });
  const summary = h('dl', { class: 'summary' });
  const nodesBox = h('div', { class: 'table-wrap' });
  const featuresBox = h('div', { class: 'features' });
  const sessionsBox = h('div', {});
  const statsBox = h('div', {});
  const eventsBox = h('div', {});
  const liveText = h('span', { class: 'live-text' });
  const pause = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-pressed': 'false', onclick: () => {
    paused = !paused;
    pause.setAttribute('aria-pressed', String(paused));
    pause.textContent = paused ? 'Resume live updates' : 'Pause live updates';
  } }, 'Pause live updates');

  replace(main,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/' }, 'Load Balancers'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page', id: 'crumb' }, '…')),
    h('div', { class: 'page-header' }, h('div', { class: 'title-row' }, title, statusBadge), headerActions),
    h('section', { class: 'card', 'aria-labelledby': 'h-details' }, h('h2', { id: 'h-details' }, 'Details'), summary),
    h('section', { class: 'card', 'aria-labelledby': 'h-nodes' },
      h('div', { class: 'card-header' }, h('h2', { id: 'h-nodes' }, 'Nodes'),
        h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => addNode(lb, refreshAll) }, icon('plus'), 'Add Node')),
      nodesBox),
    h('section', { class: 'card', 'aria-labelledby': 'h-features' }, h('h2', { id: 'h-features' }, 'Optional Features'), featuresBox),
    h('section', { class: 'card live', 'aria-labelledby': 'h-live' },
      h('div', { class: 'card-header' }, h('h2', { id: 'h-live' }, 'Live'), h('div', { class: 'live-controls' }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), liveText, pause)),
      h('div', { class: 'live-grid' },
        h('section', { 'aria-labelledby': 'h-sessions' }, h('h3', { id: 'h-sessions' }, 'Persisted sessions'), sessionsBox),
        h('section', { 'aria-labelledby': 'h-stats' }, h('h3', { id: 'h-stats' }, 'Statistics'), statsBox),
        h('section', { 'aria-labelledby': 'h-events', class: 'span-2' }, h('h3', { id: 'h-events' }, 'Node status events'), eventsBox))));

  const edit = () => editSessionPersistence(lb, refreshAll).catch(fail);
  // The Actions menu and Add Node appear once the load balancer is read (they act on it).
  const addNodeButton = main.querySelector('[aria-labelledby="h-nodes"] button');
  addNodeButton.disabled = true;
  const actionsMenu = () => menuButton({
    label: 'Actions', items: [
      { label: 'Edit Session Persistence', onSelect: edit },
      { label: 'Edit Load Balancer', onSelect: () => editLoadBalancer(lb, refreshAll).catch(fail) },
      { label: 'Delete Load Balancer', danger: true, onSelect: () => deleteLoadBalancer(lb, () => go('#/')) },
    ],
  });

  function fail(e) {
    toast(e instanceof ApiError ? e.describe() : String(e.message ?? e), 'error');
  }

  function renderSummary() {
    title.textContent = lb.name;
    document.getElementById('crumb').textContent = lb.name;
    document.title = `${lb.name} · Tether`;
    replace(statusBadge, badge(lb.status));
    const rows = [
      ['ID', lb.id], ['Protocol', lb.protocol], ['Port', lb.port], ['Algorithm', lb.algorithm],
      ['Virtual IPs', (lb.virtualIps ?? []).map((v) => `${v.address} (${v.type}, ${v.ipVersion})`).join(', ')],
      ['Timeout', `${lb.timeout} s`], ['Session persistence', describePersistence(lb.sessionPersistence)],
      ['Created', formatTime(lb.created)], ['Updated', formatTime(lb.updated)],
    ];
    replace(summary, rows.map(([k, v]) => h('div', { class: 'summary-item' }, h('dt', {}, k), h('dd', {}, String(v)))));
  }

  function renderNodes() {
    const share = new Map((stats?.nodes ?? []).map((n) => [n.id, n]));
    keepFocus(nodesBox, () => replace(nodesBox, h('table', { class: 'table', 'aria-label': 'Nodes' },
      h('thead', {}, h('tr', {}, ['Address', 'Condition', 'Status', 'Type', 'Weight', 'Persisted sessions', 'Active', 'Share vs weight share', 'Actions']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, nodes.map((node) => {
        const s = share.get(node.id);
        const name = nodeName(node);
        return h('tr', { 'data-node-id': node.id },
          h('td', {}, h('span', { class: 'mono' }, name)),
          h('td', {}, badge(node.condition), node.drained ? h('span', { class: 'tag' }, 'drained') : null),
          h('td', {}, badge(node.status)), h('td', {}, node.type), h('td', { class: 'num' }, node.weight),
          h('td', { class: 'num' }, node.persistedSessions ?? '—'), h('td', { class: 'num' }, node.activeConnections ?? '—'),
          h('td', { class: 'bars', role: 'group', 'aria-label': `Share of ${name}: ${percent(s?.share)} of requests, weight share ${percent(s?.weightShare)}` },
            bar('share', s?.share, 'share'), bar('weight', s?.weightShare, 'weight')),
          h('td', { class: 'actions' }, menuButton({
            ariaLabel: `Actions for node ${name}`, label: 'Node', className: 'btn btn-secondary btn-small', focusKey: `node-${node.id}`,
            items: [
              { label: 'Edit Node', onSelect: () => editNode(lb, node, refreshAll) },
              ...['ENABLED', 'DRAINING', 'DISABLED'].filter((c) => c !== node.condition).map((c) => ({
                label: { ENABLED: 'Enable', DRAINING: 'Drain', DISABLED: 'Disable' }[c], onSelect: () => setCondition(lb, node, c, refreshAll).catch(fail),
              })),
              { label: 'Remove Node', danger: true, onSelect: () => removeNode(lb, node, refreshAll) },
            ],
          })));
      })))));
  }

  function featureRow(name, state, label, action) {
    return h('div', { class: 'feature' },
      h('div', { class: 'feature-text' }, h('h3', {}, name), h('p', { class: 'feature-state' }, state)),
      h('button', { type: 'button', class: 'btn btn-icon', 'aria-label': label, title: label, onclick: () => action().catch(fail) }, icon('pencil')));
  }

  function renderFeatures() {
    const monitor = lb.healthMonitor;
    const throttle = lb.connectionThrottle;
    replace(featuresBox,
      featureRow('Session Persistence', describePersistence(lb.sessionPersistence), 'Edit Session Persistence', edit),
      featureRow('Health Monitor', monitor?.type ? `${monitor.type} every ${monitor.delay} s${monitor.path ? ` on ${monitor.path}` : ''}` : 'Off', 'Edit Health Monitor', () => features.editHealthMonitor(lb, refreshAll)),
      featureRow('Access List', lb.accessList?.length ? `${lb.accessList.length} rule(s)` : 'No rules', 'Edit Access List', () => features.editAccessList(lb, refreshAll)),
      featureRow('Connection Throttle', throttle?.maxConnections !== undefined ? `At most ${throttle.maxConnections} connections per client` : 'Off', 'Edit Connection Throttle', () => features.editConnectionThrottle(lb, refreshAll)),
      featureRow('SSL Termination', ssl.securePort !== undefined ? `${ssl.enabled === false ? 'Configured, disabled' : 'On'}: port ${ssl.securePort}${ssl.secureTrafficOnly ? ', secure traffic only' : ''}` : 'Off', 'Edit SSL Termination', () => features.editSslTermination(lb, refreshAll)),
      featureRow('Error Page', 'Tether\'s own 502, 503 and 504 answers', 'Edit Error Page', () => features.editErrorPage(lb, refreshAll)),
      featureRow('Connection Logging', lb.connectionLogging?.enabled ? `On: logs/lb-${lb.id}.log` : 'Off', 'Edit Connection Logging', () => features.editConnectionLogging(lb, refreshAll)),
      featureRow('Content Caching', lb.contentCaching?.enabled ? 'On' : 'Off', 'Edit Content Caching', () => features.editContentCaching(lb, refreshAll)));
  }

  function renderSessions() {
    const byNode = new Map();
    for (const s of sessions) byNode.set(s.nodeId, (byNode.get(s.nodeId) ?? 0) + 1);
    const nameOf = (nodeId) => { const n = nodes.find((x) => x.id === nodeId); return n ? nodeName(n) : `node ${nodeId}`; };
    keepFocus(sessionsBox, () => replace(sessionsBox, !lb.sessionPersistence?.persistenceType
      ? h('p', { class: 'empty' }, 'Session persistence is disabled: every request is balanced.')
      : !sessions.length ? h('p', { class: 'empty' }, 'No client is pinned yet.')
        : [h('ul', { class: 'pin-summary' }, [...byNode].map(([nodeId, count]) => h('li', {},
          h('span', {}, `${nameOf(nodeId)}: ${count} pinned`),
          h('button', {
            type: 'button', class: 'btn btn-secondary btn-small', 'data-focus-key': `unpin-${nodeId}`, 'aria-label': `Unpin clients of ${nameOf(nodeId)}`,
            onclick: () => confirmDialog({
              title: 'Unpin Clients', confirmLabel: 'Unpin',
              message: `Unpin every client of ${nameOf(nodeId)}? Their next request is balanced afresh.`,
              onConfirm: async () => {
                await api('DELETE', `/loadbalancers/${lb.id}/sessionpersistence/sessions?nodeId=${nodeId}`);
                toast(`Clients of ${nameOf(nodeId)} unpinned`);
                await refreshLive();
              },
            }),
          }, 'Unpin')))),
        h('div', { class: 'table-wrap scroll' }, h('table', { class: 'table compact', 'aria-label': 'Persisted sessions' },
          h('thead', {}, h('tr', {}, ['Client', 'Node', 'Last seen', 'Expires'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, sessions.slice(0, 50).map((s) => h('tr', {},
            h('td', { class: 'mono' }, s.key), h('td', {}, nameOf(s.nodeId)), h('td', {}, formatTime(s.lastSeen)), h('td', {}, formatTime(s.expires)))))))]));
  }

  function renderStats() {
    if (!stats) { replace(statsBox, h('p', { class: 'empty' }, 'No statistics.')); return; }
    const p = stats.persistence ?? {};
    const tiles = [
      ['Requests in flight', stats.currentConn], ['Most in flight on a node', stats.maxConn], ['Connect failures', stats.connectFailure],
      ['Timeouts (504)', stats.dataTimedOut], ['Persistence hits', p.hit], ['Hashed', p.hashed], ['Balanced (miss)', p.miss],
      ['Re-pinned (fallback)', p.repinned], ['Rejected (502)', p.rejected], ['No node (503)', p.noNodeAvailable],
    ];
    replace(statsBox, h('dl', { class: 'tiles' }, tiles.map(([k, v]) => h('div', { class: 'tile' }, h('dt', {}, k), h('dd', {}, String(v ?? 0))))));
  }

  function renderEvents() {
    replace(eventsBox, !events.length ? h('p', { class: 'empty' }, 'No node status change since Tether started.')
      : h('ol', { class: 'events', reversed: true }, events.slice(-20).reverse().map((e) => h('li', {},
        h('time', { datetime: e.created }, formatTime(e.created)), h('strong', {}, e.title), h('span', {}, e.description)))));
  }

  async function refreshLive() {
    const [n, s, sess, ev] = await Promise.all([
      api('GET', `/loadbalancers/${id}/nodes?limit=100`),
      api('GET', `/loadbalancers/${id}/stats`),
      api('GET', `/loadbalancers/${id}/sessionpersistence/sessions?limit=1000`),
      api('GET', `/loadbalancers/${id}/nodes/events`),
    ]);
    nodes = n.nodes;
    stats = s;
    sessions = sess.sessions;
    events = ev.nodeServiceEvents ?? [];
    lastUpdate = new Date();
    liveText.textContent = `Updated ${lastUpdate.toLocaleTimeString()}`;
    renderNodes();
    renderSessions();
    renderStats();
    renderEvents();
  }

  async function refreshAll() {
    const [detail, sslBody] = await Promise.all([
      api('GET', `/loadbalancers/${id}`),
      api('GET', `/loadbalancers/${id}/ssltermination`).catch(() => ({ sslTermination: {} })),
    ]);
    lb = detail.loadBalancer;
    ssl = sslBody?.sslTermination ?? {};
    renderSummary();
    renderFeatures();
    await refreshLive();
  }

  try {
    await refreshAll();
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      replace(main, h('div', { class: 'card empty-state' }, h('h1', {}, 'Load balancer not found'), h('p', {}, h('a', { href: '#/' }, 'Back to the list'))));
      return () => {};
    }
    throw e;
  }

  headerActions.append(actionsMenu());
  addNodeButton.disabled = false;

  const timer = setInterval(() => {
    if (paused || document.hidden || document.querySelector('dialog[open]')) return;
    refreshLive().catch((e) => { liveText.textContent = `Update failed: ${e.message}`; });
  }, REFRESH_MS);
  return () => clearInterval(timer);
}

// The panel's entry: routing by location hash (#/ and #/lb/ID), sign-in and sign-out.
import { session, clearSession } from './api.js';
import { h, replace } from './dom.js';
import { renderSignIn, renderList } from './views.js';
import { renderLoadBalancer } from './lbpage.js';

const main = document.getElementById('main');
let cleanup = () => {};
let notice = null;

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  cleanup();
  cleanup = () => {};
  for (const d of document.querySelectorAll('dialog')) d.remove();
  const current = session();
  document.getElementById('topnav').hidden = !current;
  document.getElementById('account').hidden = !current;
  if (!current) {
    document.title = 'Sign in · Tether';
    renderSignIn(main, notice);
    notice = null;
    return;
  }

  document.getElementById('account-label').textContent = `Account ${current.account}`;
  const match = /^#\/lb\/(\d+)$/.exec(location.hash);
  try {
    if (match) {
      cleanup = await renderLoadBalancer(main, Number(match[1]), go);
    } else {
      document.title = 'Load Balancers · Tether';
      cleanup = await renderList(main, go);
    }
  } catch (e) {
    if (!session()) return;
    replace(main, h('div', { class: 'card form-error', role: 'alert' }, `Could not load this page: ${e.message}`));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('tether:signedin', () => go(location.hash || '#/'));
window.addEventListener('tether:unauthorized', () => {
  notice = 'Your token was refused (revoked, or this tab signed out): sign in again.';
  route();
});
document.getElementById('sign-out').addEventListener('click', () => {
  clearSession();
  route();
});
route();

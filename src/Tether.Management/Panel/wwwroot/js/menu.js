// A menu button (WAI-ARIA APG "Menu Button"): Enter, Space or ArrowDown opens it on the first item, ArrowUp on the
// last; in the menu ArrowDown/ArrowUp move (wrapping), Home/End jump, Escape closes and returns focus to the button,
// Tab closes; a click elsewhere closes it.
import { h, icon } from './dom.js';

let openMenu = null;

document.addEventListener('pointerdown', (event) => {
  if (openMenu && !openMenu.root.contains(event.target)) openMenu.close(false);
});

/**
 * @param {{label?: string, ariaLabel?: string, iconName?: string, className?: string,
 *          items: {label: string, onSelect: () => void, danger?: boolean}[]}} options
 */
export function menuButton({ label, ariaLabel, iconName, className = 'btn btn-secondary', items, focusKey }) {
  const id = `menu-${Math.random().toString(36).slice(2)}`;
  const button = h('button', {
    type: 'button', class: `${className} menu-button`, 'aria-haspopup': 'menu', 'aria-expanded': 'false',
    'aria-controls': id, 'aria-label': ariaLabel, 'data-focus-key': focusKey,
  }, iconName ? icon(iconName) : null, label ? h('span', {}, label) : null, label ? icon('chevron') : null);
  const list = h('div', { class: 'menu', role: 'menu', id, hidden: true, 'aria-label': ariaLabel ?? label });
  const entries = items.map((item) => h('button', {
    type: 'button', role: 'menuitem', tabindex: '-1', class: item.danger ? 'menu-item danger' : 'menu-item',
    onclick: () => { state.close(true); item.onSelect(); },
  }, item.label));
  list.append(...entries);
  const root = h('div', { class: 'menu-wrap' }, button, list);

  const state = {
    root,
    open(index) {
      if (openMenu && openMenu !== state) openMenu.close(false);
      list.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      openMenu = state;
      entries[(index + entries.length) % entries.length]?.focus();
    },
    close(focusButton) {
      list.hidden = true;
      button.setAttribute('aria-expanded', 'false');
      if (openMenu === state) openMenu = null;
      if (focusButton) button.focus();
    },
  };

  button.addEventListener('click', () => (list.hidden ? state.open(0) : state.close(true)));
  button.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown') { event.preventDefault(); state.open(0); }
    if (event.key === 'ArrowUp') { event.preventDefault(); state.open(-1); }
  });
  list.addEventListener('keydown', (event) => {
    const index = entries.indexOf(document.activeElement);
    const moves = { ArrowDown: index + 1, ArrowUp: index - 1, Home: 0, End: entries.length - 1 };
    if (event.key in moves) {
      event.preventDefault();
      entries[(moves[event.key] + entries.length) % entries.length].focus();
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      state.close(true);
    } else if (event.key === 'Tab') {
      state.close(false);
    }
  });
  return root;
}

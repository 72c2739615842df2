// Small DOM helpers. Never sets a style attribute (the panel's Content-Security-Policy forbids inline styles);
// widths of bars are set through the CSSOM (element.style), which CSP allows.

/** Creates an element: h('button', {class: 'btn', onclick: fn, 'aria-label': 'x'}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = value;
    else if (key === 'value') el.value = value;
    else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden' || key === 'required') el[key] = Boolean(value);
    else if (key === 'style') throw new Error('inline styles are not allowed by the panel CSP');
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of el. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = {
  cog: 'M19.4 13a7.5 7.5 0 0 0 0-2l2-1.6-2-3.4-2.4 1a7.6 7.6 0 0 0-1.7-1L15 3.5h-4L10.7 6a7.6 7.6 0 0 0-1.7 1l-2.4-1-2 3.4 2 1.6a7.5 7.5 0 0 0 0 2l-2 1.6 2 3.4 2.4-1a7.6 7.6 0 0 0 1.7 1l.3 2.5h4l.3-2.5a7.6 7.6 0 0 0 1.7-1l2.4 1 2-3.4-2-1.6ZM13 15.5a3.5 3.5 0 1 1 0-7 3.5 3.5 0 0 1 0 7Z',
  pencil: 'M4 17.3V21h3.7L18.8 9.9l-3.7-3.7L4 17.3Zm17.7-10.2a1 1 0 0 0 0-1.4l-2.3-2.3a1 1 0 0 0-1.4 0l-1.8 1.8 3.7 3.7 1.8-1.8Z',
  chevron: 'M7 10l5 5 5-5z',
  plus: 'M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z',
  trash: 'M6 7h12l-1 14H7L6 7Zm3-4h6l1 2h4v2H4V5h4l1-2Z',
  refresh: 'M17.7 6.3A8 8 0 1 0 20 12h-2a6 6 0 1 1-1.8-4.2L13 11h7V4l-2.3 2.3Z',
};

/** An inline SVG icon (decorative: hidden from assistive technology). */
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('width', '16');
  svg.setAttribute('height', '16');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', 'icon');
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', ICONS[name]);
  path.setAttribute('fill', 'currentColor');
  svg.append(path);
  return svg;
}

/** A short-lived message in the corner (announced politely). */
export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const item = h('div', { class: `toast toast-${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

/** "2026-12-03T14:41:07Z" or {time: ...} as local date and time. */
export function formatTime(value) {
  const text = typeof value === 'object' && value ? value.time : value;
  if (!text) return '—';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}

export function percent(fraction) {
  return `${Math.round((fraction ?? 0) * 1000) / 10} %`;
}

/** A status badge: ACTIVE, ONLINE, ENABLED are green; DRAINING, BUILD amber; the rest red or grey. */
export function badge(text) {
  const value = String(text ?? '—');
  const tone = {
    ACTIVE: 'good', ONLINE: 'good', ENABLED: 'good',
    DRAINING: 'warn', BUILD: 'warn', PENDING_UPDATE: 'warn', PENDING_DELETE: 'warn',
    OFFLINE: 'bad', ERROR: 'bad', DISABLED: 'muted', SUSPENDED: 'bad', DELETED: 'muted',
  }[value] ?? 'muted';
  return h('span', { class: `badge badge-${tone}` }, value);
}

// Form fields with labels, hints and a data-field name the API's validation messages are matched to.
import { h } from './dom.js';

let counter = 0;
const nextId = () => `f${++counter}`;

/** A labelled input: field('Name', 'name', {value, type, hint}). Returns the wrapper (.field). */
export function field(label, name, { type = 'text', value = '', hint, placeholder, min, max, step, autocomplete = 'off', inputmode } = {}) {
  const id = nextId();
  const hintId = hint ? `${id}-hint` : undefined;
  const input = h('input', { id, name, type, value: value ?? '', placeholder, min, max, step, autocomplete, inputmode, 'aria-describedby': hintId });
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

export function textarea(label, name, { value = '', hint, rows = 6, placeholder } = {}) {
  const id = nextId();
  const hintId = hint ? `${id}-hint` : undefined;
  return h('div', { class: 'field field-wide', 'data-field': name },
    h('label', { for: id }, label),
    h('textarea', { id, name, rows, placeholder, spellcheck: 'false', 'aria-describedby': hintId, value: value ?? '' }),
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/** A select: options as strings or {value, label, disabled}. */
export function select(label, name, options, { value, hint } = {}) {
  const id = nextId();
  const hintId = hint ? `${id}-hint` : undefined;
  const el = h('select', { id, name, 'aria-describedby': hintId },
    options.map((o) => (typeof o === 'string' ? { value: o, label: o } : o))
      .map((o) => h('option', { value: o.value, disabled: o.disabled, selected: o.value === value }, o.label)));
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label), el, hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

export function checkbox(label, name, { checked = false, hint } = {}) {
  const id = nextId();
  const hintId = hint ? `${id}-hint` : undefined;
  return h('div', { class: 'field field-check', 'data-field': name },
    h('input', { id, name, type: 'checkbox', checked, 'aria-describedby': hintId }),
    h('label', { for: id }, label), hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/** The value of a named control of form: strings trimmed; '' for empty. */
export function value(form, name) {
  const el = form.elements.namedItem(name);
  if (!el) return '';
  if (el.type === 'checkbox') return el.checked;
  return String(el.value ?? '').trim();
}

/** A number from a named control, or undefined when empty; NaN text is passed on as is for the API to refuse. */
export function number(form, name) {
  const text = value(form, name);
  if (text === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/** Shows or hides a field wrapper (data-field) and disables its controls when hidden (so they are not tabbable). */
export function toggle(form, name, show) {
  const wrapper = form.querySelector(`[data-field="${name}"]`);
  if (!wrapper) return;
  wrapper.hidden = !show;
  for (const el of wrapper.querySelectorAll('input, select, textarea')) el.disabled = !show;
}

// Modal dialogs on the native <dialog> element (showModal makes the page behind it inert), with a focus trap that
// keeps Tab and Shift+Tab inside, Escape to cancel, and focus returned to the element that opened it.
import { h } from './dom.js';
import { ApiError } from './api.js';

const FOCUSABLE = 'button:not([disabled]), [href], input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

function visible(el) {
  return !el.closest('[hidden]') && el.getClientRects().length > 0;
}

/**
 * Opens a dialog with a form. onSubmit(form) does the work and returns true to close; an ApiError it throws is shown
 * next to the fields (validation messages "field: text" go to the element with data-field="field").
 * @returns {Promise<boolean>} true when submitted successfully, false when cancelled.
 */
export function openFormDialog({ title, description, build, submitLabel = 'Save', onSubmit, danger = false, wide = false, extraActions = [] }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const formError = h('div', { class: 'form-error', role: 'alert', hidden: true });
    const body = h('div', { class: 'dialog-body' });
    const submit = h('button', { type: 'submit', class: danger ? 'btn btn-danger' : 'btn btn-primary' }, submitLabel);
    const cancel = h('button', { type: 'button', class: 'btn btn-secondary', onclick: () => finish(false) }, 'Cancel');
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('header', { class: 'dialog-header' }, h('h2', { id: titleId }, title)),
      description ? h('p', { class: 'dialog-description' }, description) : null,
      formError, body,
      h('footer', { class: 'dialog-footer' }, ...extraActions.map((a) => h('button', {
        type: 'button', class: a.danger ? 'btn btn-danger-ghost' : 'btn btn-secondary', onclick: () => run(a.onClick),
      }, a.label)), h('span', { class: 'spacer' }), cancel, submit));
    const dialog = h('dialog', { class: wide ? 'dialog dialog-wide' : 'dialog', 'aria-labelledby': titleId }, form);
    build?.(body, form);
    document.body.append(dialog);

    let done = false;
    function finish(result) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      if (opener && document.contains(opener)) opener.focus();
      resolve(result);
    }

    async function run(action) {
      clearErrors(form);
      formError.hidden = true;
      submit.disabled = true;
      form.setAttribute('aria-busy', 'true');
      try {
        if (await action(form)) finish(true);
      } catch (e) {
        showErrors(form, formError, e);
      } finally {
        submit.disabled = false;
        form.removeAttribute('aria-busy');
      }
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      run(onSubmit);
    });
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.addEventListener('keydown', (event) => {
      if (event.key !== 'Tab') return;
      const items = [...dialog.querySelectorAll(FOCUSABLE)].filter(visible);
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
      else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
    });
    dialog.showModal();
    const firstField = [...body.querySelectorAll(FOCUSABLE)].filter(visible)[0] ?? submit;
    firstField.focus();
  });
}

/** A yes/no confirmation. */
export function confirmDialog({ title, message, confirmLabel, onConfirm }) {
  return openFormDialog({
    title, submitLabel: confirmLabel, danger: true,
    build: (body) => body.append(h('p', {}, message)),
    onSubmit: async () => { await onConfirm(); return true; },
  });
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-describedby');
  }
}

/** The field names a validation message may belong to, most specific first:
 * "sessionPersistence.persistenceTimeout: must..." -> ["persistenceTimeout", "sessionPersistence"]. */
export function fieldsOf(message) {
  const match = /^([A-Za-z0-9_.[\]-]+(?:, [A-Za-z0-9_.[\]-]+)*): /.exec(message);
  if (!match) return [];
  // "certificate, privateKey: ..." names two fields: the first of them that the form shows gets the message.
  const names = match[1].split(', ').flatMap((name) => name.split('.').map((p) => p.replace(/\[\d+\]$/, '')).reverse());
  return [...new Set(names)];
}

/** Shows an error: each validation message next to its field (data-field), the rest in the form's error box. */
export function showErrors(form, box, error) {
  const left = [];
  const messages = Array.isArray(error?.messages) && error.messages.length ? error.messages : null;
  if (!messages) {
    left.push(error instanceof ApiError ? error.describe() : String(error.message ?? error));
  } else {
    for (const message of messages) {
      const field = fieldsOf(message).map((f) => form.querySelector(`[data-field="${CSS.escape(f)}"]`)).find((el) => el && !el.closest('[hidden]'));
      if (!field) { left.push(message); continue; }
      const id = `err-${Math.random().toString(36).slice(2)}`;
      const text = message.replace(/^[^:]+: /, '');
      const note = h('p', { class: 'field-error', id }, text);
      const input = field.querySelector('input, select, textarea') ?? field;
      input.setAttribute('aria-invalid', 'true');
      input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
      field.append(note);
    }
  }

  if (left.length) {
    box.replaceChildren(...left.map((m) => h('p', {}, m)));
    box.hidden = false;
  }

  const firstInvalid = form.querySelector('[aria-invalid="true"]');
  (firstInvalid ?? box).focus?.();
  if (!firstInvalid) box.setAttribute('tabindex', '-1');
}

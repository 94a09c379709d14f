/**
 * What the user had typed on a page when their session ended under them (refresh refused, signed out elsewhere or in
 * another tab), so that signing in again brings it back. Kept in this page's memory only — never in storage, never
 * sent anywhere — and only the fields the user changed that hold nothing secret: no password, one-time code, hidden or
 * file field, nothing marked `data-secret`. It comes back once, on the page it was typed on, and only to the same
 * account; any other sign-in, or a deliberate sign-out, drops it.
 */
import { h, message } from './dom.js';

/** One changed field, by its element id. */
interface FieldDraft {
  id: string;
  value?: string;
  checked?: boolean;
}

/** A page's changed fields, whose they were and where. */
interface Draft {
  userId: string;
  /** The hash route, query included (`/admin/events?user_id=…`). */
  route: string;
  fields: FieldDraft[];
  /** The field that had the focus. */
  focus: string | undefined;
}

let kept: Draft | undefined;

type Control = HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;

const SECRET_TYPES = new Set(['password', 'hidden', 'file']);

/** True for a field whose value must never be kept: passwords, codes, secrets. */
export function isSecretField(el: Control): boolean {
  if (el.dataset.secret !== undefined) return true;
  if (el instanceof HTMLInputElement && SECRET_TYPES.has(el.type)) return true;
  const autocomplete = (el.getAttribute('autocomplete') ?? '').toLowerCase();
  return /password|one-time-code|cc-/.test(autocomplete);
}

/** A field the user cannot type into (disabled or read-only): nothing of theirs to keep or put back. */
const inert = (el: Control): boolean => el.disabled || (!(el instanceof HTMLSelectElement) && el.readOnly);

/** The field's change from what the page rendered, or undefined when it is as rendered. */
function changeOf(el: Control): FieldDraft | undefined {
  if (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio'))
    return el.checked === el.defaultChecked ? undefined : { id: el.id, checked: el.checked };
  if (el instanceof HTMLSelectElement) {
    const changed = Array.from(el.options).some((o) => o.selected !== o.defaultSelected);
    return changed ? { id: el.id, value: el.value } : undefined;
  }
  return el.value === el.defaultValue ? undefined : { id: el.id, value: el.value };
}

/** Remembers the changed, non-secret fields of `main` (the page at `route`, signed in as `userId`). */
export function keepDraft(main: HTMLElement, route: string, userId: string): void {
  const fields: FieldDraft[] = [];
  for (const el of Array.from(main.querySelectorAll<Control>('input, textarea, select'))) {
    if (el.id === '' || inert(el) || isSecretField(el)) continue;
    const change = changeOf(el);
    if (change !== undefined) fields.push(change);
  }
  const active = document.activeElement;
  const focus =
    active instanceof HTMLElement && main.contains(active) && active.id !== '' ? active.id : undefined;
  kept = { userId, route, fields, focus };
}

/** Forgets any kept draft (a deliberate sign-out). */
export function discardDraft(): void {
  kept = undefined;
}

/** True when input typed on `route` is waiting for the user to sign in again. */
export function hasDraft(route: string): boolean {
  return kept !== undefined && kept.route === route && kept.fields.length > 0;
}

/**
 * On the first page shown signed in after a draft was kept: puts it back if this is its page and its account, says so
 * under the heading, and returns the focus to the field the user was in. Either way the draft is then gone.
 */
export function restoreDraft(main: HTMLElement, route: string, userId: string): void {
  const draft = kept;
  kept = undefined;
  if (draft === undefined || draft.route !== route || draft.userId !== userId) return;
  let restored = 0;
  for (const f of draft.fields) {
    const el = document.getElementById(f.id);
    if (!(
      el instanceof HTMLInputElement ||
      el instanceof HTMLTextAreaElement ||
      el instanceof HTMLSelectElement
    ))
      continue;
    if (!main.contains(el) || inert(el) || isSecretField(el)) continue;
    if (f.checked !== undefined && el instanceof HTMLInputElement) el.checked = f.checked;
    else if (f.value !== undefined) el.value = f.value;
    else continue;
    // Let the page react as if typed (a select that shows or hides other fields).
    el.dispatchEvent(new Event('input', { bubbles: true }));
    el.dispatchEvent(new Event('change', { bubbles: true }));
    restored++;
  }
  if (restored === 0) return;
  // An empty status line first, its words a moment later: a live region announces a change, not its first content.
  const note = message('', 'info');
  note.id = 'draft-restored';
  const title = main.querySelector('h1');
  if (title !== null) {
    title.after(note);
    title.setAttribute('aria-describedby', note.id);
  } else main.prepend(h('div', {}, note));
  setTimeout(() => {
    note.textContent =
      'What you had typed here is back. Passwords and codes are never kept: type them again.';
  }, 50);
  const focus = draft.focus === undefined ? null : document.getElementById(draft.focus);
  if (focus !== null && main.contains(focus)) focus.focus();
}

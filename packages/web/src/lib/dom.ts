/**
 * A small element builder. Text always goes in as text nodes (never innerHTML), so values from the server or from a
 * pasted token cannot inject markup; with the server's CSP (`script-src 'self'`) that closes the XSS doors.
 */
import { JotClientError } from '@jot/client';

import { ApiError } from './api.js';

/** A child: nodes and strings; `null`, `undefined` and `false` are skipped (for conditionals). */
export type Child = Node | string | null | undefined | false;

/** Attributes: strings set attributes, booleans toggle them, functions on `on*` keys become listeners. */
export type Props = Record<string, string | boolean | undefined | ((event: Event) => void)>;

/**
 * Creates an element.
 *
 * @example
 * h('button', { type: 'button', onclick: () => save() }, 'Save')
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (typeof value === 'function') el.addEventListener(name.slice(2).toLowerCase(), value);
    else if (value === true) el.setAttribute(name, '');
    else if (typeof value === 'string') el.setAttribute(name, value);
  }
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) el.append(child);
  return el;
}

/** A status line announced to screen readers; `kind` picks the style. */
export function message(text: string, kind: 'error' | 'ok' | 'info' = 'info'): HTMLParagraphElement {
  return h('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

const UNREACHABLE = 'The server could not be reached. Check your connection and try again.';

/** `text` as a sentence: a capital first letter and a full stop (the server's messages are lower-case phrases). */
function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return 'Something went wrong. Try again.';
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…)]$/.test(s) ? s : `${s}.`;
}

/**
 * What went wrong, as a person reads it. The client's own failures (no answer, an answer that is no Jot error such as
 * a proxy's HTML page) get words of their own; the server's messages become sentences; anything else is its message.
 */
export function errorText(err: unknown): string {
  // `jot.json()` lets fetch's own failure through (a TypeError: "Failed to fetch", "Load failed", "NetworkError …").
  if (err instanceof TypeError && /fetch|network|load failed/i.test(err.message)) return UNREACHABLE;
  // …and the parser's, for a 2xx answer that is not JSON (a proxy's page).
  if (err instanceof SyntaxError) return 'The server’s answer could not be read; try again in a moment.';
  if (err instanceof JotClientError) {
    if (err.code === 'ERR_CLIENT_NETWORK') return UNREACHABLE;
    if (err.code === 'ERR_CLIENT_BAD_RESPONSE')
      return 'The server’s answer could not be read; try again in a moment.';
    if (err.code === 'ERR_CLIENT_NO_SESSION') return 'You are signed out. Sign in again to continue.';
    if (/^HTTP_\d{3}$/.test(err.code)) return `The server answered ${err.status}; try again in a moment.`;
    // The wait, unless the server's message already says it (its own rate limits do).
    const wait =
      err.retryAfter === undefined || err.retryAfter <= 0 || /try again in \d/i.test(err.message)
        ? ''
        : ` Try again in ${err.retryAfter} s.`;
    return sentence(err.message) + wait;
  }
  if (err instanceof ApiError) return sentence(err.message);
  return err instanceof Error ? err.message : String(err);
}

/** An error status line for `err` (see {@link message}). */
export function failure(err: unknown): HTMLParagraphElement {
  return message(errorText(err), 'error');
}

/**
 * An outcome line: what an action answers is announced politely (errors arrive as alerts, see `busy`). Its message
 * lasts until the next action on the page, whose own outcome takes its place (see {@link clearEarlierMessages}).
 */
export function outcome(props: Props = {}, ...children: Child[]): HTMLDivElement {
  return h('div', { 'aria-live': 'polite', 'data-outcome': '', ...props }, ...children);
}

/**
 * Removes the messages of earlier actions from the page's other outcome lines, so that a new action's message does
 * not appear beside an old one ("Session revoked." above "Password changed."). Only the messages go: anything else an
 * outcome line holds (a "Send a new link" button) stays, and so does what is shown once outside them (a new secret,
 * recovery codes). An element that named a removed message as its description (`aria-describedby`) stops doing so.
 */
export function clearEarlierMessages(keep: HTMLElement): void {
  for (const line of Array.from(document.querySelectorAll<HTMLElement>('[data-outcome]'))) {
    if (line === keep || line.contains(keep) || keep.contains(line)) continue;
    for (const msg of Array.from(line.children)) {
      if (!msg.classList.contains('msg')) continue;
      if (msg.id !== '')
        for (const described of Array.from(document.querySelectorAll('[aria-describedby]'))) {
          const ids = described.getAttribute('aria-describedby')!.split(/\s+/);
          if (!ids.includes(msg.id)) continue;
          const rest = ids.filter((id) => id !== '' && id !== msg.id);
          if (rest.length === 0) described.removeAttribute('aria-describedby');
          else described.setAttribute('aria-describedby', rest.join(' '));
        }
      msg.remove();
    }
  }
}

/** A page heading that receives focus on navigation (so screen readers announce the new page). */
export function heading(text: string): HTMLHeadingElement {
  return h('h1', { tabindex: '-1' }, text);
}

/**
 * A form or section named by its `<h2>`: `heading` is the heading's id, which `aria-labelledby` points at, so a screen
 * reader announces the region by its title; the other props are the region's own attributes.
 */
export function titled<K extends 'form' | 'section'>(
  tag: K,
  props: Props & { heading: string },
  title: string,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const { heading, ...rest } = props;
  return h(tag, { 'aria-labelledby': heading, ...rest }, h('h2', { id: heading }, title), ...children);
}

/** A labelled form field; the label is tied to the control by id. */
export function field(
  label: string,
  control: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement,
  hint?: string,
): HTMLDivElement {
  const hintId = hint === undefined ? undefined : `${control.id}-hint`;
  if (hintId !== undefined) control.setAttribute('aria-describedby', hintId);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: control.id }, label),
    control,
    hint === undefined ? null : h('small', { id: hintId }, hint),
  );
}

/** A checkbox with its label after it, tied by id. */
export function checkbox(box: HTMLInputElement, label: string): HTMLDivElement {
  return h('div', { class: 'check' }, box, h('label', { for: box.id }, label));
}

/**
 * A simple table with a caption and header cells. Each cell carries its column's name (`data-label`), so on a narrow
 * screen the stylesheet shows every row as a card of labelled fields instead of a table wider than the page.
 */
export function table(caption: string, headers: string[], rows: Child[][]): HTMLTableElement {
  return h(
    'table',
    { class: 'cards' },
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ...headers.map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      ...rows.map((cells) =>
        h('tr', {}, ...cells.map((c, i) => h('td', { 'data-label': headers[i] ?? '' }, c))),
      ),
    ),
  );
}

/** An outcome that is not a failure (the user cancelled): `busy` shows its message as information. */
export class Notice extends Error {
  override readonly name: string = 'Notice';
}

/** True when `el` is in the page, shown and enabled: somewhere the focus can go. */
function focusable(el: Element | null): el is HTMLElement {
  return (
    el instanceof HTMLElement &&
    el !== document.body &&
    el.isConnected &&
    el.getClientRects().length > 0 &&
    !(el instanceof HTMLButtonElement && el.disabled)
  );
}

/**
 * Puts the focus back after an action, if it was lost: the browser drops the focus of a button while it is disabled,
 * and of one the action re-rendered or removed, which sends a keyboard or screen-reader user back to the top of the
 * page. In order: where the focus was before, the button (or the one that replaced it, by id), else the outcome line
 * (what happened). Focus the user or the action has put somewhere is left alone.
 */
export function settleFocus(before: Element | null, button: HTMLElement, out: HTMLElement): void {
  const active = document.activeElement;
  if (active !== null && active !== document.body) return;
  const replacement = button.id === '' ? null : document.getElementById(button.id);
  const target = [before, button, replacement].find(focusable);
  if (target !== undefined) {
    target.focus();
    return;
  }
  if (out.isConnected && out.textContent !== '') {
    out.tabIndex = -1;
    out.focus();
  }
}

/** Runs `action` with `button` disabled and shows the outcome in `out`; the focus is not lost meanwhile. */
export async function busy(
  button: HTMLButtonElement,
  out: HTMLElement,
  action: () => Promise<string | void>,
): Promise<void> {
  const before = document.activeElement;
  button.disabled = true;
  out.replaceChildren();
  clearEarlierMessages(out);
  try {
    const ok = await action();
    if (typeof ok === 'string') out.replaceChildren(message(ok, 'ok'));
  } catch (err) {
    if (err instanceof Notice) out.replaceChildren(message(err.message, 'info'));
    else {
      out.replaceChildren(failure(err));
      // An error must be seen where it is: a button at the bottom of the screen has its outcome below the fold.
      if (out.isConnected) out.scrollIntoView({ block: 'nearest' });
    }
  } finally {
    button.disabled = false;
    settleFocus(before, button, out);
  }
}

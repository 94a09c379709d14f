/**
 * Asking for a new link by mail — a password reset or an email verification — and the way on from a link the server
 * refuses (expired, used already, or not valid): a form for a new one, the address filled in when the page knows it.
 */
import { JotClientError } from '@jot/client';
import type { MailLinkRequestBody } from '@jot/contract';

import { ApiError, postAnonymous } from './api.js';
import { busy, errorText, field, h, message, titled } from './dom.js';

/** The server's codes for a link it will not take (docs/errors.md): the way on is a new link. */
const REFUSED_LINK = new Set(['ERR_LINK_INVALID', 'ERR_LINK_EXPIRED', 'ERR_LINK_USED']);

/**
 * True when `err` is the server refusing a one-time link (sent anonymously, or with the session: the verification
 * page sends a signed-in user's link with the session, lib/session.ts).
 */
export const linkRefused = (err: unknown): err is ApiError | JotClientError =>
  (err instanceof ApiError || err instanceof JotClientError) && REFUSED_LINK.has(err.code);

/** What the form asks for, and how it says it. */
export interface LinkRequestOptions {
  /** Id prefix: `<id>-h` (the heading), `<id>-email` (the field). */
  id: string;
  title: string;
  /** The anonymous "send me a link" endpoint. */
  path: '/api/password/forgot' | '/api/email/verification';
  /** The address to fill in (from the refused link), if known. */
  email?: string;
  hint: string;
  button: string;
  /** The answer once the request was accepted (the same whether or not an account has the address). */
  sent: (email: string) => string;
}

/** The form: the address and one button; the outcome shows below it. */
export function linkRequestForm(options: LinkRequestOptions): HTMLFormElement {
  const email = h('input', {
    id: `${options.id}-email`,
    type: 'email',
    autocomplete: 'username',
    required: true,
    value: options.email ?? '',
  });
  const out = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, options.button);
  const form = titled(
    'form',
    { heading: `${options.id}-h` },
    options.title,
    field('Email', email, options.hint),
    submit,
    out,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, out, async () => {
      await postAnonymous(options.path, { email: email.value } satisfies MailLinkRequestBody);
      return options.sent(email.value);
    });
  });
  return form;
}

/**
 * What the server said about a refused link, and a form for a new one (`place` puts them in the page). The focus goes
 * to that form's button when the address is filled in, else to the address: the form is the page's one question
 * now. Placed in a page on screen (the form that sent the link is gone), it takes the focus at once; placed in a
 * page still rendering (the link was refused as the page opened), it is marked `data-autofocus`, which the router
 * focuses instead of the heading once the page is shown (lib/router.ts) — a detached element cannot take focus.
 */
export function offerNewLink(
  place: (...nodes: Node[]) => void,
  err: ApiError | JotClientError,
  options: LinkRequestOptions,
): void {
  const form = linkRequestForm(options);
  place(message(errorText(err), 'error'), form);
  const email = form.querySelector('input');
  const target = email !== null && email.value === '' ? email : form.querySelector('button');
  if (target === null) return;
  if (target.isConnected) target.focus();
  else target.setAttribute('data-autofocus', '');
}

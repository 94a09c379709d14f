/**
 * The account page: who am I (the verified claims of the current access token, readably), my sessions with
 * revoke, sign out everywhere, and change password.
 */
import type { JotClient } from '@jot/client';
import type { SessionListView, SessionView, UserView, WhoAmIResponse } from '@jot/contract';

import { onClick, onSubmit } from '../lib/actions.js';
import { failure, field, h, heading, message, outcome, table, titled } from '../lib/dom.js';
import { formatIso } from '../lib/format.js';
import { currentUser, jot, loadUser, onUserRefreshed } from '../lib/session.js';
import { mfaSection } from './account-mfa.js';
import { claimsList } from './claims.js';
import { deleteSection, profileSection } from './profile.js';

const CLAIMS_LABEL = 'Access token claims';

const device = (s: SessionView): string => s.user_agent ?? 'unknown device';

/** Revokes another session, after confirming. */
function revokeButton(
  s: SessionView,
  row: number,
  client: JotClient,
  out: HTMLElement,
  reload: () => Promise<void>,
): HTMLElement {
  // Sessions from the same browser share a device name: the label also says its row, where from and since when.
  const label = `Revoke session ${row} from ${device(s)}, ${s.ip ?? 'unknown address'}, signed in ${formatIso(s.created_at)}`;
  const revoke = h('button', { type: 'button', class: 'secondary', 'aria-label': label }, 'Revoke');
  const confirm = {
    title: 'Revoke this session?',
    text: `The device ${device(s)} is signed out at once.`,
    confirm: 'Revoke',
  };
  const run = async (): Promise<string> => {
    await client.json(`/api/sessions/${encodeURIComponent(s.id)}`, { method: 'DELETE' });
    await reload();
    return 'Session revoked.';
  };
  return onClick(revoke, out, run, { confirm });
}

function sessionsTable(
  sessions: readonly SessionView[],
  client: JotClient,
  out: HTMLElement,
  reload: () => Promise<void>,
): HTMLTableElement {
  return table(
    'Live sessions, most recently used first',
    ['Device', 'IP address', 'Last used', 'Signed in', ''],
    sessions.map((s, i) => [
      h('span', { class: 'ua' }, device(s), s.current ? h('strong', {}, ' (this device)') : null),
      s.ip ?? '—',
      formatIso(s.last_used_at),
      formatIso(s.created_at),
      s.current ? 'Use “Sign out”' : revokeButton(s, i + 1, client, out, reload),
    ]),
  );
}

function signOutEverywhere(client: JotClient, out: HTMLElement): HTMLElement {
  const everywhere = h('button', { type: 'button', class: 'danger' }, 'Sign out everywhere');
  const confirm = {
    title: 'Sign out everywhere?',
    text: 'Every session on every device ends, this one included.',
    confirm: 'Sign out everywhere',
  };
  onClick(everywhere, out, () => client.logoutEverywhere(), { confirm });
  return h('p', {}, 'Ends every session on every device, this one included. ', everywhere);
}

async function sessionsSection(client: JotClient): Promise<HTMLElement> {
  const out = outcome();
  const section = titled('section', { heading: 'sessions-h' }, 'My sessions', out);
  const render = async (): Promise<void> => {
    const { sessions } = await client.json<SessionListView>('/api/sessions');
    section.querySelector('table')?.remove();
    section.insertBefore(sessionsTable(sessions, client, out, render), out);
  };
  await render().catch((err: unknown) => out.replaceChildren(failure(err)));
  section.append(signOutEverywhere(client, out));
  return section;
}

function passwordSection(client: JotClient): HTMLElement {
  const current = h('input', {
    id: 'current-password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const next = h('input', {
    id: 'new-password',
    type: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: '8',
  });
  const out = outcome();
  const submit = h('button', { type: 'submit' }, 'Change password');
  const form = titled(
    'form',
    { heading: 'password-h' },
    'Change password',
    field('Current password', current),
    field('New password', next, 'Other sessions are signed out when the password changes.'),
    submit,
    out,
  );
  // An account with a second factor needs a recent two-factor sign-in for this (the step-up dialog asks for one);
  // `changePassword` keeps this session on the tokens the answer carries.
  return onSubmit(
    form,
    submit,
    out,
    async () => {
      await client.changePassword(current.value, next.value);
      current.value = '';
      next.value = '';
      return 'Password changed. Your other sessions were signed out.';
    },
    { stepUp: true },
  );
}

/**
 * Keeps what the page drew from the session current: a confirmed authenticator app (aal2), a step-up or a refresh
 * gives the session a new token — with new roles, say, after an admin changed them — and `redraw` gets the user and
 * claims that whoami answers with it (`onUserRefreshed`: one request per refresh, the newest answer). It listens from
 * the moment the page starts drawing — a refresh can come while the rest of the page still loads, before its parts
 * are in the document — until the router aborts `signal` (the user moved on): one listener per page on screen.
 */
function followRefreshes(signal: AbortSignal, redraw: (who: WhoAmIResponse) => void): void {
  if (signal.aborted) return;
  const stop = onUserRefreshed((who) => {
    if (!signal.aborted) redraw(who);
  });
  signal.addEventListener('abort', stop, { once: true });
}

/** "Signed in as …" with the user's name and roles. */
function signedInAs(user: UserView): HTMLParagraphElement {
  return h(
    'p',
    {},
    'Signed in as ',
    h('strong', {}, user.email),
    user.name ? ` (${user.name})` : '',
    '. Roles: ',
    user.roles.join(', ') || 'none',
    '.',
  );
}

/** Renders the account page. */
export async function accountPage(main: ParentNode, signal: AbortSignal): Promise<void> {
  const who = (await loadUser()) ?? currentUser();
  main.append(heading('My account'));
  if (who === undefined) {
    main.append(message('Could not load your account. Sign in again.', 'error'));
    return;
  }
  const { user, claims } = who;
  let signedIn = signedInAs(user);
  let claimsShown = claimsList(claims, CLAIMS_LABEL);
  // A name just saved shows here at once, not after the next visit; so do roles a refresh brought.
  const redrawSignedIn = (next: UserView): void => {
    const line = signedInAs(next);
    signedIn.replaceWith(line);
    signedIn = line;
  };
  followRefreshes(signal, (next) => {
    redrawSignedIn(next.user);
    const list = claimsList(next.claims, CLAIMS_LABEL);
    claimsShown.replaceWith(list);
    claimsShown = list;
  });
  main.append(
    titled(
      'section',
      { heading: 'whoami-h' },
      'Who am I',
      signedIn,
      h('h3', {}, 'Claims of the current access token'),
      claimsShown,
      h(
        'p',
        { class: 'muted' },
        'The token itself stays in an HttpOnly cookie: scripts on this page cannot read it.',
      ),
    ),
    profileSection(user, redrawSignedIn),
    await mfaSection(),
    await sessionsSection(jot),
    passwordSection(jot),
    deleteSection(user),
  );
}

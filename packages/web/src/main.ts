/**
 * The Jot web UI: picks up an existing session (cookie mode), then routes between the pages. Session events from
 * the client — including sign-in and sign-out in other tabs — re-render the navigation and re-check the route.
 * A page that needs a session sends a signed-out user to sign in and back (lib/return-to.ts); when the session ends
 * under the user (not by their own sign-out here) what they had typed is kept for their return (lib/drafts.ts).
 */
import type { SessionEndReason } from '@jot/client';

import { h } from './lib/dom.js';
import { discardDraft, keepDraft, restoreDraft } from './lib/drafts.js';
import {
  allowReturnTo,
  DEFAULT_ROUTE,
  normalizeRoute,
  requestedReturn,
  signInReturningTo,
} from './lib/return-to.js';
import { startRouter, type Route } from './lib/router.js';
import {
  currentUser,
  forgetUser,
  hasRole,
  jot,
  loadUser,
  onUserRefreshed,
  setNotice,
} from './lib/session.js';
import { acceptInvitationPage } from './pages/accept-invitation.js';
import { accountPage } from './pages/account.js';
import { adminInvitationsPage } from './pages/admin-invitations.js';
import { adminEventsPage } from './pages/admin-events.js';
import { adminClientsPage } from './pages/admin-clients.js';
import { adminKeysPage } from './pages/admin-keys.js';
import { adminUsersPage } from './pages/admin-users.js';
import { debuggerPage } from './pages/debugger.js';
import { confirmEmailPage, verifyEmailPage } from './pages/email-links.js';
import { forgotPasswordPage, resetPasswordPage } from './pages/password-reset.js';
import { signInPage } from './pages/signin.js';

const routes: Route[] = [
  { path: '/', title: 'Jot', access: 'anyone', page: () => undefined },
  { path: '/signin', title: 'Sign in', access: 'anyone', page: signInPage },
  { path: '/forgot-password', title: 'Forgot password', access: 'anyone', page: forgotPasswordPage },
  { path: '/reset-password', title: 'Reset password', access: 'anyone', page: resetPasswordPage },
  { path: '/verify-email', title: 'Verify email', access: 'anyone', page: verifyEmailPage },
  { path: '/confirm-email', title: 'Confirm new email', access: 'anyone', page: confirmEmailPage },
  { path: '/accept-invitation', title: 'Accept invitation', access: 'anyone', page: acceptInvitationPage },
  { path: '/account', title: 'My account', access: 'signed-in', page: accountPage, nav: true },
  { path: '/debugger', title: 'Token debugger', access: 'anyone', page: debuggerPage, nav: true },
  { path: '/admin/users', title: 'Users', access: 'admin', page: adminUsersPage, nav: true },
  {
    path: '/admin/invitations',
    title: 'Invitations',
    access: 'admin',
    page: adminInvitationsPage,
    nav: true,
  },
  { path: '/admin/clients', title: 'OAuth clients', access: 'admin', page: adminClientsPage, nav: true },
  { path: '/admin/keys', title: 'Signing keys', access: 'admin', page: adminKeysPage, nav: true },
  { path: '/admin/events', title: 'Security events', access: 'admin', page: adminEventsPage, nav: true },
];

allowReturnTo(routes.filter((r) => r.access !== 'anyone'));

function guard(route: Route, query: string): string | undefined {
  const signedIn = currentUser() !== undefined;
  if (route.path === '/') return signedIn ? DEFAULT_ROUTE : '/signin';
  if (route.path === '/signin' && signedIn) return requestedReturn() ?? DEFAULT_ROUTE;
  if (route.access !== 'anyone' && !signedIn) return signInReturningTo(route.path, query);
  if (route.access === 'admin' && !hasRole('admin')) return DEFAULT_ROUTE;
  return undefined;
}

/** The hash route shown now, query included (`/admin/events?user_id=…`), as the return route spells it. */
const currentRoute = (): string => normalizeRoute(location.hash.slice(1));

/** The user signed out here (this tab, on purpose): nothing is kept, and the sign-in page starts afresh. */
const deliberate = (reason: SessionEndReason): boolean =>
  reason === 'logout' || reason === 'logout-everywhere';

/** Whether the navigation on screen was drawn for an admin (its admin links). */
let navDrawnForAdmin = false;

function renderNav(nav: HTMLElement, active: Route): void {
  const who = currentUser();
  navDrawnForAdmin = hasRole('admin');
  document.body.dataset.session = who === undefined ? 'signed-out' : 'signed-in';
  const links = routes
    .filter((r) => r.nav === true && guard(r, '') === undefined)
    .map((r) =>
      h('li', {}, h('a', { href: `#${r.path}`, 'aria-current': r === active ? 'page' : undefined }, r.title)),
    );
  if (who === undefined)
    links.unshift(
      h(
        'li',
        {},
        h(
          'a',
          { href: '#/signin', 'aria-current': active.path === '/signin' ? 'page' : undefined },
          'Sign in',
        ),
      ),
    );
  const signOut = h('button', { type: 'button', class: 'link' }, 'Sign out');
  signOut.addEventListener('click', () => {
    signOut.disabled = true;
    jot.logout().catch(() => undefined);
  });
  nav.replaceChildren(h('a', { href: '#/', class: 'brand' }, 'Jot'), h('ul', {}, ...links));
  if (who !== undefined) nav.append(h('p', { class: 'who' }, h('span', {}, who.user.email), signOut));
}

/**
 * The skip link moves the focus to the content without following its `#main`: that would replace the hash route, so
 * a reload, a bookmark or the end of the session would no longer know which page the user is on.
 */
function skipToContent(main: HTMLElement): void {
  document.querySelector<HTMLAnchorElement>('a.skip')?.addEventListener('click', (event) => {
    event.preventDefault();
    main.focus();
    main.scrollIntoView();
  });
}

async function boot(): Promise<void> {
  const nav = document.getElementById('nav')!;
  const main = document.getElementById('main')!;
  skipToContent(main);
  if (await jot.resume().catch(() => false)) await loadUser();
  const router = startRouter(routes, main, {
    guard,
    onRoute: (route) => renderNav(nav, route),
    afterRender: (route) => {
      const who = currentUser();
      if (route.access !== 'anyone' && who !== undefined) restoreDraft(main, currentRoute(), who.user.id);
    },
  });

  jot.on('session:ended', ({ reason }) => {
    const who = currentUser();
    const onPage = routes.find((r) => r.path === main.dataset.route);
    if (deliberate(reason)) discardDraft();
    else if (who !== undefined && onPage !== undefined && onPage.access !== 'anyone')
      keepDraft(main, currentRoute(), who.user.id);
    forgetUser();
    setNotice(
      reason === 'other-tab'
        ? 'You were signed out in another tab.'
        : reason === 'refresh-failed'
          ? 'Your session has ended. Please sign in again.'
          : reason === 'logout-everywhere'
            ? 'You are signed out on every device.'
            : 'You are signed out.',
      { ifNone: true },
    );
    // Signed out on purpose: the sign-in page without a way back (a page that needs a session would add one).
    if (deliberate(reason) && (onPage?.access !== 'anyone' || currentRoute().startsWith('/signin?')))
      location.replace('#/signin');
    else router.rerender();
  });
  jot.on('session:started', ({ source }) => {
    if (source === 'other-tab') void loadUser().then(() => router.rerender());
  });
  // A refresh brings the roles an admin gave or took meanwhile: the navigation follows at once, and a page the user
  // may no longer see is left; a page still allowed stays as it is (nothing typed into it is lost).
  onUserRefreshed(() => {
    if (hasRole('admin') === navDrawnForAdmin) return;
    const onPage = routes.find((r) => r.path === main.dataset.route);
    if (onPage === undefined || guard(onPage, '') !== undefined) router.rerender();
    else renderNav(nav, onPage);
  });
}

void boot();

/**
 * The Jot web UI: picks up an existing session (cookie mode), then routes between the pages. Session events from
 * the client — including sign-in and sign-out in other tabs — re-render the navigation and re-check the route.
 */
import { h } from './lib/dom.js';
import { startRouter, type Route } from './lib/router.js';
import { currentUser, forgetUser, hasRole, jot, loadUser, setNotice } from './lib/session.js';
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

function guard(route: Route): string | undefined {
  const signedIn = currentUser() !== undefined;
  if (route.path === '/') return signedIn ? '/account' : '/signin';
  if (route.path === '/signin' && signedIn) return '/account';
  if (route.access !== 'anyone' && !signedIn) return '/signin';
  if (route.access === 'admin' && !hasRole('admin')) return '/account';
  return undefined;
}

function renderNav(nav: HTMLElement, active: Route): void {
  const who = currentUser();
  document.body.dataset.session = who === undefined ? 'signed-out' : 'signed-in';
  const links = routes
    .filter((r) => r.nav === true && guard(r) === undefined)
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

async function boot(): Promise<void> {
  const nav = document.getElementById('nav')!;
  const main = document.getElementById('main')!;
  if (await jot.resume().catch(() => false)) await loadUser();
  const router = startRouter(routes, main, guard, (route) => renderNav(nav, route));

  jot.on('session:ended', ({ reason }) => {
    forgetUser();
    setNotice(
      reason === 'other-tab'
        ? 'You were signed out in another tab.'
        : reason === 'refresh-failed'
          ? 'Your session has ended. Please sign in again.'
          : 'You are signed out.',
      { ifNone: true },
    );
    router.rerender();
  });
  jot.on('session:started', ({ source }) => {
    if (source === 'other-tab') void loadUser().then(() => router.rerender());
  });
}

void boot();

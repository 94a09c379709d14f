/**
 * Admin: OAuth clients — the services and apps that get tokens from Jot. List them, register one (its public key
 * for `private_key_jwt`, or a generated secret shown once), require DPoP proofs of a client or make them optional,
 * let a client introspect any access token or only its own, rotate a secret and remove a client (its tokens stop
 * working). Changes are step-up actions; removals ask for confirmation.
 */
import { OAUTH_URIS, type ClientListView, type ClientView, type ClientWithSecret } from '@jot/contract';

import { onClick } from '../lib/actions.js';
import { h, heading, outcome, table } from '../lib/dom.js';
import { loadWithStepUp } from '../lib/step-up.js';
import { jot } from '../lib/session.js';
import { registerClientForm, secretNotice, showSecret } from './admin-client-form.js';

const EXCHANGE = OAUTH_URIS.tokenExchangeGrant;

/** What the row buttons act on: the outcome line, where a new secret is shown, and the reload of the table. */
interface ClientsPage {
  out: HTMLElement;
  shown: HTMLElement;
  reload: () => Promise<void>;
}

const clientPath = (c: ClientView): string => `/api/admin/clients/${encodeURIComponent(c.client_id)}`;

function dpopButton(c: ClientView, page: ClientsPage): HTMLButtonElement {
  const next = c.dpop === 'required' ? 'optional' : 'required';
  const toggle = h(
    'button',
    {
      type: 'button',
      id: `dpop-${c.client_id}`,
      'aria-label': `${next === 'required' ? 'Require' : 'Stop requiring'} DPoP for ${c.client_id}`,
    },
    next === 'required' ? 'Require DPoP' : 'Make DPoP optional',
  );
  return onClick(
    toggle,
    page.out,
    async () => {
      await jot.json(clientPath(c), { method: 'PATCH', body: { dpop: next } });
      await page.reload();
      return next === 'required'
        ? `${c.client_id} now needs a DPoP proof with every token request.`
        : `DPoP is optional for ${c.client_id} again.`;
    },
    { stepUp: true },
  );
}

function introspectionButton(c: ClientView, page: ClientsPage): HTMLButtonElement {
  const next = c.introspection === 'any' ? 'own' : 'any';
  const toggle = h(
    'button',
    {
      type: 'button',
      id: `introspection-${c.client_id}`,
      'aria-label': `${next === 'any' ? 'Let' : 'Stop letting'} ${c.client_id} introspect any access token`,
    },
    next === 'any' ? 'Introspect any token' : 'Only its own tokens',
  );
  return onClick(
    toggle,
    page.out,
    async () => {
      await jot.json(clientPath(c), { method: 'PATCH', body: { introspection: next } });
      await page.reload();
      return next === 'any'
        ? `${c.client_id} may now introspect any access token.`
        : `${c.client_id} now introspects only the tokens issued to it or naming it.`;
    },
    { stepUp: true },
  );
}

function rotateButton(c: ClientView, page: ClientsPage): HTMLButtonElement {
  const rotate = h(
    'button',
    { type: 'button', id: `rotate-${c.client_id}`, 'aria-label': `New secret for ${c.client_id}` },
    'New secret',
  );
  return onClick(
    rotate,
    page.out,
    async () => {
      const res = await jot.json<ClientWithSecret>(`${clientPath(c)}/secret`, { method: 'POST' });
      showSecret(
        page.shown,
        res.client_secret === undefined ? undefined : secretNotice(c.client_id, res.client_secret),
      );
      return `A new secret for ${c.client_id}; the old one no longer works.`;
    },
    { stepUp: true },
  );
}

function removeButton(c: ClientView, page: ClientsPage): HTMLButtonElement {
  const remove = h(
    'button',
    { type: 'button', class: 'danger', id: `remove-${c.client_id}`, 'aria-label': `Remove ${c.client_id}` },
    'Remove',
  );
  const confirm = {
    title: `Remove the client ${c.client_id}?`,
    text: 'Every token issued to it stops working, here and in every service.',
    confirm: 'Remove',
  };
  return onClick(
    remove,
    page.out,
    async () => {
      await jot.json(clientPath(c), { method: 'DELETE' });
      await page.reload();
      return `Removed ${c.client_id}.`;
    },
    { confirm, stepUp: true },
  );
}

/**
 * The row's buttons: DPoP policy and removal for registered clients, the introspection policy for confidential ones
 * (a public client introspects no access token), a new secret for secret methods.
 */
function actionsFor(c: ClientView, page: ClientsPage): HTMLElement {
  const isPublic = c.token_endpoint_auth_method === 'none';
  return h(
    'div',
    { class: 'actions' },
    c.first_party ? null : dpopButton(c, page),
    isPublic ? null : introspectionButton(c, page),
    c.token_endpoint_auth_method.startsWith('client_secret') ? rotateButton(c, page) : null,
    c.first_party ? null : removeButton(c, page),
  );
}

function clientsTable(clients: readonly ClientView[], page: ClientsPage): HTMLTableElement {
  return table(
    'Registered clients',
    ['Client id', 'Name', 'Authentication', 'Grants', 'Scopes', 'Audiences', 'DPoP', 'Introspects', ''],
    clients.map((c) => [
      h('code', {}, c.client_id),
      c.name,
      c.token_endpoint_auth_method,
      c.grant_types.map((g) => (g === EXCHANGE ? 'token-exchange' : g)).join(', '),
      c.scopes.join(' ') || (c.first_party ? 'from roles' : '—'),
      c.audiences.length === 0 ? '—' : h('span', { class: 'address' }, c.audiences.join(', ')),
      c.first_party ? 'server setting' : c.dpop,
      c.token_endpoint_auth_method === 'none' ? 'own refresh tokens' : c.introspection,
      actionsFor(c, page),
    ]),
  );
}

/** Renders the clients page. */
export async function adminClientsPage(main: ParentNode): Promise<void> {
  const holder = h('div');
  const page: ClientsPage = {
    out: outcome(),
    shown: h('div'),
    reload: async () => {
      const { clients } = await jot.json<ClientListView>('/api/admin/clients');
      holder.replaceChildren(clientsTable(clients, page));
    },
  };
  main.append(
    heading('OAuth clients'),
    h(
      'p',
      { class: 'muted' },
      'Services get tokens with their key or secret (client credentials), or exchange a user’s token to act on their behalf. ',
      h('code', {}, 'jot'),
      ' is this sign-in.',
    ),
    page.out,
    page.shown,
    holder,
    registerClientForm(page),
  );
  await loadWithStepUp(main.querySelector('h1') ?? page.out, page.out, page.reload);
}

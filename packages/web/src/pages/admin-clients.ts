/**
 * Admin: OAuth clients — the services and apps that get tokens from Jot. List them, register one (its public key
 * for `private_key_jwt`, or a generated secret shown once), require DPoP proofs of a client or make them optional,
 * rotate a secret and remove a client (its tokens stop working). Changes are step-up actions; removals ask for
 * confirmation.
 */
import {
  OAUTH_URIS,
  type ClientAuthMethod,
  type ClientRegistration,
  type ClientView,
  type ClientWithSecret,
} from '@jot/contract';

import { afterConfirm } from '../lib/confirm.js';
import { busy, field, h, heading, message, table } from '../lib/dom.js';
import { jot } from '../lib/session.js';
import { withStepUp } from '../lib/step-up.js';

const EXCHANGE = OAUTH_URIS.tokenExchangeGrant;
const METHODS: ClientAuthMethod[] = [
  'private_key_jwt',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'none',
];
const GRANTS: [string, string][] = [
  ['client_credentials', 'Client credentials (its own token)'],
  [EXCHANGE, 'Token exchange (on a user’s behalf)'],
  ['refresh_token', 'Refresh token'],
];

function words(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).filter((w) => w !== ''))];
}

/** Shows a new secret once, with a note that it will not be shown again. */
function secretNotice(clientId: string, secret: string): HTMLElement {
  return h(
    'div',
    { class: 'card', role: 'status' },
    h('p', {}, `The secret of ${clientId} — copy it now, it is not shown again:`),
    h('code', { id: 'new-client-secret', class: 'secret' }, secret),
  );
}

/** Renders the clients page. */
export async function adminClientsPage(main: ParentNode): Promise<void> {
  const out = h('div', { 'aria-live': 'polite' });
  const holder = h('div');
  const shown = h('div');

  const actionsFor = (c: ClientView): HTMLElement => {
    const cell = h('div', { class: 'actions' });
    if (!c.first_party) {
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
      toggle.addEventListener('click', () => {
        void busy(toggle, out, () =>
          withStepUp(toggle, async () => {
            await jot.json(`/api/admin/clients/${encodeURIComponent(c.client_id)}`, {
              method: 'PATCH',
              body: { dpop: next },
            });
            await reload();
            return next === 'required'
              ? `${c.client_id} now needs a DPoP proof with every token request.`
              : `DPoP is optional for ${c.client_id} again.`;
          }),
        );
      });
      cell.append(toggle);
    }
    if (c.token_endpoint_auth_method.startsWith('client_secret')) {
      const rotate = h('button', { type: 'button', id: `rotate-${c.client_id}` }, 'New secret');
      rotate.addEventListener('click', () => {
        void busy(rotate, out, () =>
          withStepUp(rotate, async () => {
            const res = await jot.json<{ client_secret: string }>(
              `/api/admin/clients/${encodeURIComponent(c.client_id)}/secret`,
              { method: 'POST' },
            );
            shown.replaceChildren(secretNotice(c.client_id, res.client_secret));
            return `A new secret for ${c.client_id}; the old one no longer works.`;
          }),
        );
      });
      cell.append(rotate);
    }
    if (!c.first_party) {
      const remove = h(
        'button',
        {
          type: 'button',
          class: 'danger',
          id: `remove-${c.client_id}`,
          'aria-label': `Remove ${c.client_id}`,
        },
        'Remove',
      );
      remove.addEventListener('click', () => {
        void busy(remove, out, () =>
          afterConfirm(
            {
              title: `Remove the client ${c.client_id}?`,
              text: 'Every token issued to it stops working, here and in every service.',
              confirm: 'Remove',
            },
            () =>
              withStepUp(remove, async () => {
                await jot.json(`/api/admin/clients/${encodeURIComponent(c.client_id)}`, { method: 'DELETE' });
                await reload();
                return `Removed ${c.client_id}.`;
              }),
          ),
        );
      });
      cell.append(remove);
    }
    return cell;
  };

  const reload = async (): Promise<void> => {
    const { clients } = await jot.json<{ clients: ClientView[] }>('/api/admin/clients');
    holder.replaceChildren(
      table(
        'Registered clients',
        ['Client id', 'Name', 'Authentication', 'Grants', 'Scopes', 'Audiences', 'DPoP', ''],
        clients.map((c) => [
          h('code', {}, c.client_id),
          c.name,
          c.token_endpoint_auth_method,
          c.grant_types.map((g) => (g === EXCHANGE ? 'token-exchange' : g)).join(', '),
          c.scopes.join(' ') || (c.first_party ? 'from roles' : '—'),
          c.audiences.join(', ') || '—',
          c.first_party ? 'server setting' : c.dpop,
          actionsFor(c),
        ]),
      ),
    );
  };

  const name = h('input', { id: 'client-name', type: 'text', required: true, autocomplete: 'off' });
  const clientId = h('input', {
    id: 'client-id',
    type: 'text',
    autocomplete: 'off',
    pattern: '[A-Za-z0-9._~-]{1,64}',
  });
  const method = h('select', { id: 'client-method' }, ...METHODS.map((m) => h('option', { value: m }, m)));
  const keys = h('textarea', { id: 'client-jwks', rows: '4', spellcheck: 'false' });
  const keysField = field(
    'Public key (JWK or JWK Set)',
    keys,
    'For private_key_jwt: the public key(s), never the private one.',
  );
  const grants = GRANTS.map(([value, label], i) => {
    const box = h('input', { id: `client-grant-${i}`, type: 'checkbox', value });
    if (value === 'client_credentials') box.checked = true;
    return { box, row: h('div', { class: 'check' }, box, h('label', { for: box.id }, label)) };
  });
  const scopes = h('input', { id: 'client-scopes', type: 'text', autocomplete: 'off' });
  const audiences = h('input', { id: 'client-audiences', type: 'text', autocomplete: 'off' });
  const requireDPoP = h('input', { id: 'client-dpop', type: 'checkbox' });
  const register = h('button', { type: 'submit', id: 'register-client' }, 'Register');
  method.addEventListener('change', () => {
    keysField.hidden = method.value !== 'private_key_jwt';
  });
  const form = h(
    'form',
    { 'aria-labelledby': 'register-client-h', class: 'card' },
    h('h2', { id: 'register-client-h' }, 'Register a client'),
    field('Name', name),
    field('Client id', clientId, 'Optional; generated when empty.'),
    field('Authentication', method),
    keysField,
    h('fieldset', {}, h('legend', {}, 'Grants'), ...grants.map((g) => g.row)),
    field('Scopes', scopes, 'Space- or comma-separated, e.g. orders:read orders:write.'),
    field('Audiences', audiences, 'The services it may call (URIs), e.g. https://orders.internal.'),
    h(
      'div',
      { class: 'check' },
      requireDPoP,
      h('label', { for: requireDPoP.id }, 'Require DPoP: refuse token requests without a proof of its key'),
    ),
    register,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(register, out, () =>
      withStepUp(register, async () => {
        const body: ClientRegistration = {
          name: name.value,
          token_endpoint_auth_method: method.value as ClientAuthMethod,
          grant_types: grants.filter((g) => g.box.checked).map((g) => g.box.value),
          scopes: words(scopes.value),
          audiences: words(audiences.value),
          dpop: requireDPoP.checked ? 'required' : 'optional',
        };
        if (clientId.value.trim() !== '') body.client_id = clientId.value.trim();
        if (method.value === 'private_key_jwt') {
          let parsed: unknown;
          try {
            parsed = JSON.parse(keys.value);
          } catch {
            throw new Error('The public key must be a JWK or a JWK Set (JSON).');
          }
          body.jwks =
            typeof parsed === 'object' && parsed !== null && 'keys' in parsed ? parsed : { keys: [parsed] };
        }
        const res = await jot.json<ClientWithSecret>('/api/admin/clients', {
          method: 'POST',
          body,
        });
        shown.replaceChildren();
        if (res.client_secret !== undefined)
          shown.append(secretNotice(res.client.client_id, res.client_secret));
        form.reset();
        keysField.hidden = false;
        grants[0]!.box.checked = true;
        await reload();
        return `Registered ${res.client.client_id}.`;
      }),
    );
  });
  main.append(
    heading('OAuth clients'),
    h(
      'p',
      { class: 'muted' },
      'Services get tokens with their key or secret (client credentials), or exchange a user’s token to act on their behalf. ',
      h('code', {}, 'jot'),
      ' is this sign-in.',
    ),
    out,
    shown,
    holder,
    form,
  );
  await reload().catch((err: unknown) =>
    out.replaceChildren(message(err instanceof Error ? err.message : String(err), 'error')),
  );
}

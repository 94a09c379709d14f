/**
 * The clients page's "Register a client" form: name, id (generated when empty), how it authenticates (its public key,
 * or the URL of its JWKS, for `private_key_jwt`), grants, scopes, audiences, its tokens' lifetime, whether DPoP is
 * required and whether it may introspect any access token (a resource server) or only its own. A generated secret
 * is shown once.
 */
import {
  OAUTH_URIS,
  type ClientAuthMethod,
  type ClientRegistration,
  type ClientWithSecret,
} from '@jot/contract';

import { onSubmit } from '../lib/actions.js';
import { checkbox, field, h, outcome, titled } from '../lib/dom.js';
import { wordList } from '../lib/lists.js';
import { jot } from '../lib/session.js';

const METHODS: ClientAuthMethod[] = [
  'private_key_jwt',
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'none',
];
const GRANTS: [string, string][] = [
  ['client_credentials', 'Client credentials (its own token)'],
  [OAUTH_URIS.tokenExchangeGrant, 'Token exchange (on a user’s behalf)'],
  ['refresh_token', 'Refresh token'],
];

/**
 * Shows a new secret once, with a note that it will not be shown again. It takes the focus once shown (`showSecret`):
 * on a phone it sits a screen or more away from the button that made it.
 */
export function secretNotice(clientId: string, secret: string): HTMLElement {
  return h(
    'div',
    { class: 'card', role: 'status', tabindex: '-1' },
    h('p', {}, `The secret of ${clientId} — copy it now, it is not shown again:`),
    h('code', { id: 'new-client-secret', class: 'secret' }, secret),
  );
}

/** Shows `notice` in `shown` (in place of any earlier one) and moves the focus, and the view, to it. */
export function showSecret(shown: HTMLElement, notice: HTMLElement | undefined): void {
  shown.replaceChildren(notice ?? '');
  notice?.focus();
}

/** The form's controls. */
interface ClientFields {
  name: HTMLInputElement;
  clientId: HTMLInputElement;
  method: HTMLSelectElement;
  keys: HTMLTextAreaElement;
  jwksUri: HTMLInputElement;
  grants: HTMLInputElement[];
  scopes: HTMLInputElement;
  audiences: HTMLInputElement;
  requireDPoP: HTMLInputElement;
  introspectAny: HTMLInputElement;
  tokenLifetime: HTMLInputElement;
}

function clientFields(): ClientFields {
  const text = (id: string): HTMLInputElement => h('input', { id, type: 'text', autocomplete: 'off' });
  const grants = GRANTS.map(([value], i) => h('input', { id: `client-grant-${i}`, type: 'checkbox', value }));
  grants[0]!.checked = true;
  return {
    name: h('input', { id: 'client-name', type: 'text', required: true, autocomplete: 'off' }),
    clientId: h('input', {
      id: 'client-id',
      type: 'text',
      autocomplete: 'off',
      pattern: '[A-Za-z0-9._~-]{1,64}',
    }),
    method: h('select', { id: 'client-method' }, ...METHODS.map((m) => h('option', { value: m }, m))),
    keys: h('textarea', { id: 'client-jwks', rows: '4', spellcheck: 'false' }),
    jwksUri: h('input', { id: 'client-jwks-uri', type: 'url', autocomplete: 'off' }),
    grants,
    scopes: text('client-scopes'),
    audiences: text('client-audiences'),
    requireDPoP: h('input', { id: 'client-dpop', type: 'checkbox' }),
    introspectAny: h('input', { id: 'client-introspection', type: 'checkbox' }),
    tokenLifetime: h('input', { id: 'client-ttl', type: 'number', min: '1', max: '86400', step: '1' }),
  };
}

/** The pasted public key as a JWK Set (a lone JWK is wrapped). */
function parseJwks(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error('The public key must be a JWK or a JWK Set (JSON).');
  }
  return typeof parsed === 'object' && parsed !== null && 'keys' in parsed ? parsed : { keys: [parsed] };
}

/** The registration the form describes. */
function registration(f: ClientFields): ClientRegistration {
  const body: ClientRegistration = {
    name: f.name.value,
    token_endpoint_auth_method: f.method.value as ClientAuthMethod,
    grant_types: f.grants.filter((box) => box.checked).map((box) => box.value),
    scopes: wordList(f.scopes.value),
    audiences: wordList(f.audiences.value),
    dpop: f.requireDPoP.checked ? 'required' : 'optional',
    introspection: f.introspectAny.checked ? 'any' : 'own',
  };
  if (f.clientId.value.trim() !== '') body.client_id = f.clientId.value.trim();
  if (f.method.value === 'private_key_jwt') {
    // A JWKS URL (keys the client rotates itself) or the pasted keys.
    if (f.jwksUri.value.trim() !== '') body.jwks_uri = f.jwksUri.value.trim();
    else body.jwks = parseJwks(f.keys.value);
  }
  if (f.tokenLifetime.value !== '') body.access_token_ttl = Number(f.tokenLifetime.value);
  return body;
}

/** The client's token settings: its tokens' lifetime, whether DPoP is required, which tokens it may introspect. */
function tokenSettings(f: ClientFields): HTMLElement[] {
  return [
    field(
      'Token lifetime (seconds)',
      f.tokenLifetime,
      'Optional, up to 86400 (a day); the server default otherwise.',
    ),
    checkbox(f.requireDPoP, 'Require DPoP: refuse token requests without a proof of its key'),
    checkbox(
      f.introspectAny,
      'Introspect any access token (a resource server); otherwise only tokens issued to it or naming it',
    ),
  ];
}

/** Builds the form; a registration shows its secret (if any) in `page.shown` and reloads the table. */
export function registerClientForm(page: {
  shown: HTMLElement;
  reload: () => Promise<void>;
}): HTMLFormElement {
  const f = clientFields();
  const keysField = field(
    'Public key (JWK or JWK Set)',
    f.keys,
    'For private_key_jwt: the public key(s), never the private one.',
  );
  const jwksUriField = field(
    'Or the URL of its JWKS',
    f.jwksUri,
    'For a client that publishes and rotates its own keys; used instead of the pasted key.',
  );
  f.method.addEventListener('change', () => {
    keysField.hidden = f.method.value !== 'private_key_jwt';
    jwksUriField.hidden = keysField.hidden;
  });
  const register = h('button', { type: 'submit', id: 'register-client' }, 'Register');
  // The outcome shows by the button: the page's own line is a screen or more above on a phone.
  const out = outcome({ id: 'register-client-out' });
  const form = titled(
    'form',
    { heading: 'register-client-h', class: 'card' },
    'Register a client',
    field('Name', f.name),
    field('Client id', f.clientId, 'Optional; generated when empty.'),
    field('Authentication', f.method),
    keysField,
    jwksUriField,
    h('fieldset', {}, h('legend', {}, 'Grants'), ...f.grants.map((box, i) => checkbox(box, GRANTS[i]![1]))),
    field('Scopes', f.scopes, 'Space- or comma-separated, e.g. orders:read orders:write.'),
    field('Audiences', f.audiences, 'The services it may call (URIs), e.g. https://orders.internal.'),
    ...tokenSettings(f),
    register,
    out,
  );
  const submit = async (): Promise<string> => {
    const res = await jot.json<ClientWithSecret>('/api/admin/clients', {
      method: 'POST',
      body: registration(f),
    });
    form.reset();
    keysField.hidden = false;
    jwksUriField.hidden = false;
    f.grants[0]!.checked = true;
    await page.reload();
    showSecret(
      page.shown,
      res.client_secret === undefined ? undefined : secretNotice(res.client.client_id, res.client_secret),
    );
    return `Registered ${res.client.client_id}.`;
  };
  return onSubmit(form, register, out, submit, { stepUp: true });
}

/**
 * `jot clients add|list|show|update|rotate-secret|remove`: the OAuth client registry in the configured database —
 * the same service and rules as `/api/admin/clients`. A secret is printed once, when it is made; removing a client
 * revokes every token issued to it; `update --dpop required` makes the client's token requests need a DPoP proof,
 * `--introspection any` lets it introspect every access token (a resource server), not only its own.
 */
import type { Command } from 'commander';

import { importJWK, importPEM } from '@jot/jose';
import { OAUTH_URIS, type ClientListView, type ClientView, type ClientWithSecret } from '@jot/contract';
import type * as JotServer from '@jot/server';
import type {
  AdminOps,
  ClientDPoPPolicy,
  ClientIntrospectionPolicy,
  ClientRegistration,
  ClientUpdate,
} from '@jot/server';

import { CliError } from '../errors.js';
import { writeJson, writeLine, type CliIo } from '../io.js';
import { examples, requireYes, withAdminOps } from '../lib/admin-ops.js';
import { jotServer } from '../lib/server.js';
import { readText } from '../lib/files.js';

interface AddOptions {
  name: string;
  id?: string;
  auth: string;
  jwksFile?: string;
  publicKey?: string;
  jwksUri?: string;
  grant: string[];
  scope: string[];
  audience: string[];
  ttl?: string;
  dpop?: string;
  introspection?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** `token-exchange` is accepted for the RFC 8693 URN. */
function grantName(value: string): string {
  return value === 'token-exchange' ? OAUTH_URIS.tokenExchangeGrant : value;
}

/** `--json`: the API's client view, with the secret beside its members when one was just made. */
type PrintedClient = ClientView & Pick<ClientWithSecret, 'client_secret'>;

function print(io: CliIo, view: ClientView, secret: string | undefined, json: boolean | undefined): void {
  const printed: PrintedClient = secret === undefined ? view : { ...view, client_secret: secret };
  if (json === true) return writeJson(io.stdout, printed);
  const rows: [string, string][] = [
    ['client_id', view.client_id],
    ['name', view.name],
    ['auth method', view.token_endpoint_auth_method],
    ['grant types', view.grant_types.join(', ') || '—'],
    ['scopes', view.scopes.join(' ') || '(any the roles grant)'],
    ['audiences', view.audiences.join(', ') || '—'],
    ['token ttl', view.access_token_ttl === null ? 'server default' : `${view.access_token_ttl} s`],
    ['dpop', view.first_party ? `${view.dpop} (and JOT_DPOP)` : view.dpop],
    ['introspection', view.introspection],
    [
      'keys',
      view.jwks_uri ?? (view.jwks === undefined ? '—' : `${(view.jwks.keys as unknown[]).length} registered`),
    ],
    ['created', view.created_at],
  ];
  const width = Math.max(...rows.map(([key]) => key.length)) + 2;
  for (const [key, value] of rows) writeLine(io.stdout, `${key.padEnd(width)}${value}`);
  if (secret !== undefined) {
    writeLine(io.stdout, `${'secret'.padEnd(width)}${secret}`);
    writeLine(io.stderr, 'Store the secret now: it is not shown again (only its hash is kept).');
  }
}

/** Parses JSON read from `what`, or fails with a usage error naming it. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError('ERR_CLI_USAGE', `${what} is not JSON (expected a JWKS or one JWK)`);
  }
}

/** Reads `--jwks-file` (a JWKS or one JWK) or `--public-key` (a PEM public key) into a JWKS. */
function keysOf(io: CliIo, options: AddOptions): unknown {
  if (options.jwksFile !== undefined) {
    const parsed = parseJson(
      readText(io, options.jwksFile, '--jwks-file'),
      `--jwks-file "${options.jwksFile}"`,
    );
    return typeof parsed === 'object' && parsed !== null && 'keys' in parsed ? parsed : { keys: [parsed] };
  }
  if (options.publicKey !== undefined) {
    const key = importPEM(readText(io, options.publicKey, '--public-key'));
    if (key.type !== 'public')
      throw new CliError('ERR_CLI_USAGE', '--public-key must be a public key (never send the private one)');
    return { keys: [{ ...importJWK(key.toJWK()).toJWK(), use: 'sig' }] };
  }
  return undefined;
}

/** `--dpop`: optional or required. */
function dpopPolicy(
  { DPOP_POLICIES }: typeof JotServer,
  value: string | undefined,
): ClientDPoPPolicy | undefined {
  if (value === undefined) return undefined;
  if (!(DPOP_POLICIES as readonly string[]).includes(value)) {
    throw new CliError('ERR_CLI_USAGE', `--dpop must be one of ${DPOP_POLICIES.join(', ')}`);
  }
  return value as ClientDPoPPolicy;
}

/** `--introspection`: own or any. */
function introspectionPolicy(
  { INTROSPECTION_POLICIES }: typeof JotServer,
  value: string | undefined,
): ClientIntrospectionPolicy | undefined {
  if (value === undefined) return undefined;
  if (!(INTROSPECTION_POLICIES as readonly string[]).includes(value)) {
    throw new CliError(
      'ERR_CLI_USAGE',
      `--introspection must be one of ${INTROSPECTION_POLICIES.join(', ')} (own: only tokens issued to ` +
        'the client or naming it in aud; any: every access token, for a resource server)',
    );
  }
  return value as ClientIntrospectionPolicy;
}

/** The flag of each registration field a server message can start with (`audiences: …`, `jwks_uri must …`). */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  name: '--name',
  client_id: '--id',
  token_endpoint_auth_method: '--auth',
  jwks: '--public-key / --jwks-file',
  jwks_uri: '--jwks-uri',
  grant_types: '--grant',
  scopes: '--scope',
  audiences: '--audience',
  access_token_ttl: '--ttl',
  dpop: '--dpop',
  introspection: '--introspection',
};

/** The server's message with the registration field it starts with named as the flag that sets it. */
function inFlags(message: string): string {
  const field = /^([a-z_]+)(?=[: ])/.exec(message)?.[1];
  const flag = field !== undefined && Object.hasOwn(FLAG_OF_FIELD, field) ? FLAG_OF_FIELD[field] : undefined;
  return flag === undefined ? message : `${flag}${message.slice(field!.length)}`;
}

/**
 * Runs `fn` with the admin operations and the server module (loaded for the command, lib/server.ts). Server
 * validation errors become usage errors with the server's message, in the CLI's flags.
 */
async function registry<T>(
  io: CliIo,
  fn: (ops: AdminOps, server: typeof JotServer) => Promise<T>,
): Promise<T> {
  const server = await jotServer();
  const { DomainError } = server;
  return withAdminOps(io, async (ops) => {
    try {
      return await fn(ops, server);
    } catch (err) {
      if (err instanceof DomainError) {
        throw new CliError(
          err.kind === 'not_found' ? 'ERR_CLI_NOT_FOUND' : 'ERR_CLI_USAGE',
          `${inFlags(err.message)} (${err.code})`,
        );
      }
      throw err;
    }
  });
}

/** The registration `jot clients add` sends, from its options. */
function registrationOf(server: typeof JotServer, io: CliIo, options: AddOptions): ClientRegistration {
  const jwks = keysOf(io, options);
  const ttl = options.ttl === undefined ? undefined : Number(options.ttl);
  const dpop = dpopPolicy(server, options.dpop);
  const introspection = introspectionPolicy(server, options.introspection);
  return {
    name: options.name,
    token_endpoint_auth_method: options.auth as ClientRegistration['token_endpoint_auth_method'],
    ...(options.id === undefined ? {} : { client_id: options.id }),
    ...(jwks === undefined ? {} : { jwks }),
    ...(options.jwksUri === undefined ? {} : { jwks_uri: options.jwksUri }),
    ...(options.grant.length === 0 ? {} : { grant_types: options.grant.map(grantName) }),
    scopes: options.scope,
    audiences: options.audience,
    ...(ttl === undefined ? {} : { access_token_ttl: ttl }),
    ...(dpop === undefined ? {} : { dpop }),
    ...(introspection === undefined ? {} : { introspection }),
  };
}

/** The change `jot clients update` sends, from its options: at least one of them. */
function updateOf(
  server: typeof JotServer,
  options: { dpop?: string; introspection?: string },
): ClientUpdate {
  const dpop = dpopPolicy(server, options.dpop);
  const introspection = introspectionPolicy(server, options.introspection);
  if (dpop === undefined && introspection === undefined) {
    throw new CliError('ERR_CLI_USAGE', 'nothing to change: give --dpop and/or --introspection');
  }
  return {
    ...(dpop === undefined ? {} : { dpop }),
    ...(introspection === undefined ? {} : { introspection }),
  };
}

/** `jot clients add`. */
function addCommand(clients: Command, io: CliIo): void {
  clients
    .command('add')
    .description('register a client; a secret method prints its secret once')
    .requiredOption('--name <name>', 'a human-readable name')
    .option('--id <client_id>', 'the client_id (default: generated)')
    .requiredOption(
      '--auth <method>',
      'private_key_jwt | client_secret_jwt | client_secret_basic | client_secret_post | none',
    )
    .option('--public-key <file>', 'private_key_jwt: the public key (PEM)')
    .option('--jwks-file <file>', 'private_key_jwt: a JWKS (or one JWK) file with the public keys')
    .option('--jwks-uri <url>', 'private_key_jwt: where the client publishes its keys')
    .option(
      '--grant <type>',
      'client_credentials (default), refresh_token, token-exchange; repeatable',
      collect,
      [],
    )
    .option('--scope <scope>', 'a scope the client may get; repeatable', collect, [])
    .option('--audience <uri>', 'a resource server the client may get tokens for; repeatable', collect, [])
    .option('--ttl <seconds>', 'access-token lifetime for this client (default: the server setting)')
    .option('--dpop <policy>', 'optional (default) | required: refuse token requests without a DPoP proof')
    .option(
      '--introspection <policy>',
      'own (default): introspect only tokens issued to it or naming it in aud | any: every access token',
    )
    .option('--json', 'print the client as JSON (with client_secret when one was made)')
    .addHelpText(
      'after',
      examples(
        'jot clients add --name Billing --id billing --auth private_key_jwt --public-key billing.pub.pem \\',
        '  --scope orders:read --audience https://orders.internal',
        'jot clients add --name Gateway --auth client_secret_basic --grant token-exchange --audience https://orders.internal',
        'jot clients add --name Orders --id orders-api --auth client_secret_basic --audience https://orders.internal \\',
        '  --introspection any',
      ),
    )
    .action((options: AddOptions) =>
      registry(io, async (ops, server) => {
        await ops.requireKek(); // a client_secret_jwt secret is sealed under JOT_KEK
        const { client, clientSecret } = await ops.clients.register(registrationOf(server, io, options));
        print(io, server.clientView(client), clientSecret, options.json);
      }),
    );
}

/** `jot clients list`. */
function listCommand(clients: Command, io: CliIo): void {
  clients
    .command('list')
    .description('list the registered clients (the first-party client "jot" included)')
    .addHelpText('after', examples('jot clients list', 'jot clients list --json'))
    .option('--json', 'print {"clients": [...]}')
    .action((options: { json?: boolean }) =>
      registry(io, async (ops, { clientView }) => {
        const views = (await ops.clients.list()).map(clientView);
        if (options.json === true) return writeJson(io.stdout, { clients: views } satisfies ClientListView);
        for (const c of views) {
          writeLine(
            io.stdout,
            `${c.client_id.padEnd(24)} ${c.token_endpoint_auth_method.padEnd(20)} ${c.name}`,
          );
        }
      }),
    );
}

/** `jot clients show`. */
function showCommand(clients: Command, io: CliIo): void {
  clients
    .command('show <client_id>')
    .description('one client')
    .addHelpText('after', examples('jot clients show billing --json'))
    .option('--json', 'print the client as JSON')
    .action((clientId: string, options: { json?: boolean }) =>
      registry(io, async (ops, { clientView }) => {
        const client = await ops.clients.get(clientId);
        if (client === undefined) throw new CliError('ERR_CLI_NOT_FOUND', `no client "${clientId}"`);
        print(io, clientView(client), undefined, options.json);
      }),
    );
}

/** `jot clients update`. */
function updateCommand(clients: Command, io: CliIo): void {
  clients
    .command('update <client_id>')
    .description(
      "change a client's DPoP policy (it applies to the client's next token request) or which access tokens " +
        'it may introspect',
    )
    .option('--dpop <policy>', 'optional | required: refuse token requests without a DPoP proof')
    .option(
      '--introspection <policy>',
      'own: only tokens issued to it or naming it in aud | any: every access token (a resource server)',
    )
    .addHelpText(
      'after',
      examples(
        'jot clients update billing --dpop required',
        'jot clients update orders-api --introspection any',
      ),
    )
    .option('--json', 'print the client as JSON')
    .action((clientId: string, options: { dpop?: string; introspection?: string; json?: boolean }) =>
      registry(io, async (ops, server) => {
        const client = await ops.clients.update(clientId, updateOf(server, options));
        print(io, server.clientView(client), undefined, options.json);
      }),
    );
}

/** `jot clients rotate-secret`. */
function rotateSecretCommand(clients: Command, io: CliIo): void {
  clients
    .command('rotate-secret <client_id>')
    .description('replace the secret (the old one stops working at once) and print the new one')
    .addHelpText('after', examples('jot clients rotate-secret reports'))
    .option('--json', 'print the client and its new client_secret as JSON')
    .action((clientId: string, options: { json?: boolean }) =>
      registry(io, async (ops, { clientView }) => {
        await ops.requireKek();
        const { client, clientSecret } = await ops.clients.rotateSecret(clientId);
        print(io, clientView(client), clientSecret, options.json);
      }),
    );
}

/** `jot clients remove`. */
function removeCommand(clients: Command, io: CliIo): void {
  clients
    .command('remove <client_id>')
    .description('remove a client; every token issued to it stops working')
    .addHelpText('after', examples('jot clients remove reports --yes'))
    .option('--yes', 'confirm')
    .option('--json', 'print {"client_id", "removed": true}')
    .action((clientId: string, options: { yes?: boolean; json?: boolean }) =>
      registry(io, async (ops) => {
        requireYes(options.yes, `removing client "${clientId}"`);
        await ops.clients.remove(clientId);
        if (options.json === true) return writeJson(io.stdout, { client_id: clientId, removed: true });
        writeLine(io.stdout, `removed client ${clientId}; its tokens are revoked`);
      }),
    );
}

/** Registers `jot clients`. */
export function registerClients(program: Command, io: CliIo): void {
  const clients = program
    .command('clients')
    .description('manage OAuth clients (services and apps) in the configured database');
  addCommand(clients, io);
  listCommand(clients, io);
  showCommand(clients, io);
  updateCommand(clients, io);
  rotateSecretCommand(clients, io);
  removeCommand(clients, io);
}

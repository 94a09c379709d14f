/**
 * Issuer discovery: the `jwks_uri` and Jot's feed endpoints from the issuer's metadata, tried at
 * `/.well-known/openid-configuration` (OpenID Connect Discovery §4) then `/.well-known/oauth-authorization-server`
 * (RFC 8414 §3, with the path-insertion rule for issuers that have a path). The metadata's `issuer` must equal the
 * configured one exactly (RFC 8414 §3.3), or an attacker-controlled document could point us at its own keys.
 *
 * The endpoints found there are held to the issuer: an https issuer's `jwks_uri` must be https, and the feed,
 * stream and introspection endpoints (which receive the revocation secret) must be on the issuer's exact origin.
 * One that is not is ignored with a warning, and the default `<issuer>/api/…` path is used instead; options given
 * explicitly may still point anywhere.
 */
import { WELL_KNOWN, type AuthorizationServerMetadata } from '@jot/contract';

import { describeError, fetchOk, readJSONObject } from './http.js';
import { silentLogger, type FetchLike, type Logger } from './types.js';

/** The members of issuer metadata the verifier uses. */
export type IssuerMetadata = Readonly<
  Pick<AuthorizationServerMetadata, 'issuer' | 'jwks_uri'> &
    Partial<
      Pick<
        AuthorizationServerMetadata,
        | 'introspection_endpoint'
        | 'revocation_feed_endpoint'
        | 'revocation_stream_endpoint'
        | 'access_token_signing_alg_values_supported'
      >
    >
>;

/** A fetched metadata document: the contract's members, each still unchecked. */
type MetadataDocument = Partial<Record<keyof AuthorizationServerMetadata, unknown>>;

function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const origin = url.origin;
  return [
    `${origin}${path}${WELL_KNOWN.openidConfiguration}`,
    `${origin}${WELL_KNOWN.authorizationServer}${path}`,
  ];
}

function parseUrl(value: unknown): URL | undefined {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return undefined;
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

/** The `jwks_uri`, if usable: any origin (a CDN may serve it), but https when the issuer is. */
function jwksUrl(doc: MetadataDocument, issuer: URL): string | undefined {
  const url = parseUrl(doc.jwks_uri);
  if (url === undefined || (issuer.protocol === 'https:' && url.protocol !== 'https:')) return undefined;
  return url.href;
}

/** An endpoint that will receive the revocation secret: only on the issuer's exact origin. */
function sameOriginUrl(
  doc: MetadataDocument,
  name: keyof AuthorizationServerMetadata,
  issuer: URL,
  logger: Logger,
): string | undefined {
  if (doc[name] === undefined) return undefined;
  const url = parseUrl(doc[name]);
  if (url === undefined || url.origin !== issuer.origin) {
    logger.warn(
      `ignored the issuer metadata "${name}": not a URL on the issuer's origin; using the default`,
      {
        endpoint: name,
        value: typeof doc[name] === 'string' ? doc[name] : typeof doc[name],
        issuerOrigin: issuer.origin,
      },
    );
    return undefined;
  }
  return url.href;
}

/**
 * Fetches and checks the issuer's metadata. Throws an `Error` naming every URL tried when none answers usable
 * metadata (a JSON content type, the exact `issuer`, and a `jwks_uri` that is https when the issuer is).
 *
 * @example
 * const { jwks_uri } = await discoverIssuer('https://auth.example.com');
 */
export async function discoverIssuer(
  issuer: string,
  options: { fetch?: FetchLike; timeoutMs?: number; logger?: Logger; signal?: AbortSignal } = {},
): Promise<IssuerMetadata> {
  const fetchImpl = options.fetch ?? fetch;
  const logger = options.logger ?? silentLogger;
  const issuerUrl = new URL(issuer);
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      const response = await fetchOk(fetchImpl, url, {
        headers: { accept: 'application/json' },
        timeoutMs: options.timeoutMs ?? 5000,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      const doc: MetadataDocument = await readJSONObject(response, url, { requireJSONType: true });
      if (doc.issuer !== issuer) {
        failures.push(`${url}: "issuer" does not match the configured issuer`);
        continue;
      }
      const jwksUri = jwksUrl(doc, issuerUrl);
      if (jwksUri === undefined) {
        failures.push(`${url}: no usable "jwks_uri" (an https issuer needs an https one)`);
        continue;
      }
      const algs = doc.access_token_signing_alg_values_supported;
      return {
        issuer,
        jwks_uri: jwksUri,
        introspection_endpoint: sameOriginUrl(doc, 'introspection_endpoint', issuerUrl, logger),
        revocation_feed_endpoint: sameOriginUrl(doc, 'revocation_feed_endpoint', issuerUrl, logger),
        revocation_stream_endpoint: sameOriginUrl(doc, 'revocation_stream_endpoint', issuerUrl, logger),
        access_token_signing_alg_values_supported:
          Array.isArray(algs) && algs.every((a) => typeof a === 'string') ? algs : undefined,
      };
    } catch (err) {
      // Closed meanwhile: no point asking the next address.
      if (options.signal?.aborted === true) throw err;
      failures.push(`${url}: ${describeError(err)}`);
    }
  }
  throw new Error(`issuer discovery failed for ${issuer}: ${failures.join('; ')}`);
}

/**
 * Issuer discovery: the `jwks_uri` and Jot's feed endpoints from the issuer's metadata, tried at
 * `/.well-known/openid-configuration` (OpenID Connect Discovery §4) then `/.well-known/oauth-authorization-server`
 * (RFC 8414 §3, with the path-insertion rule for issuers that have a path). The metadata's `issuer` must equal the
 * configured one exactly (RFC 8414 §3.3), or an attacker-controlled document could point us at its own keys.
 */
import { describeError, fetchOk, readJSONObject } from './http.js';
import type { FetchLike } from './types.js';

/** The members of issuer metadata the verifier uses. */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  readonly introspection_endpoint?: string;
  readonly revocation_feed_endpoint?: string;
  readonly revocation_stream_endpoint?: string;
  readonly access_token_signing_alg_values_supported?: readonly string[];
}

function metadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const origin = url.origin;
  return [
    `${origin}${path}/.well-known/openid-configuration`,
    `${origin}/.well-known/oauth-authorization-server${path}`,
  ];
}

function optionalUrl(doc: Record<string, unknown>, name: string): string | undefined {
  const value = doc[name];
  return typeof value === 'string' && /^https?:\/\//.test(value) ? value : undefined;
}

/**
 * Fetches and checks the issuer's metadata. Throws an `Error` naming every URL tried when none answers usable
 * metadata.
 *
 * @example
 * const { jwks_uri } = await discoverIssuer('https://auth.example.com');
 */
export async function discoverIssuer(
  issuer: string,
  options: { fetch?: FetchLike; timeoutMs?: number } = {},
): Promise<IssuerMetadata> {
  const fetchImpl = options.fetch ?? fetch;
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      const response = await fetchOk(fetchImpl, url, {
        headers: { accept: 'application/json' },
        timeoutMs: options.timeoutMs ?? 5000,
      });
      const doc = await readJSONObject(response, url);
      if (doc.issuer !== issuer) {
        failures.push(`${url}: "issuer" does not match the configured issuer`);
        continue;
      }
      const jwksUri = optionalUrl(doc, 'jwks_uri');
      if (jwksUri === undefined) {
        failures.push(`${url}: no usable "jwks_uri"`);
        continue;
      }
      const algs = doc.access_token_signing_alg_values_supported;
      return {
        issuer,
        jwks_uri: jwksUri,
        introspection_endpoint: optionalUrl(doc, 'introspection_endpoint'),
        revocation_feed_endpoint: optionalUrl(doc, 'revocation_feed_endpoint'),
        revocation_stream_endpoint: optionalUrl(doc, 'revocation_stream_endpoint'),
        access_token_signing_alg_values_supported:
          Array.isArray(algs) && algs.every((a) => typeof a === 'string') ? algs : undefined,
      };
    } catch (err) {
      failures.push(`${url}: ${describeError(err)}`);
    }
  }
  throw new Error(`issuer discovery failed for ${issuer}: ${failures.join('; ')}`);
}

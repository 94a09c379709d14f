/**
 * The structure of a passkey credential (WebAuthn Level 3 `RegistrationResponseJSON` / `AuthenticationResponseJSON`),
 * checked before `@simplewebauthn/server` sees it: what does not decode — client data that is not a base64url JSON
 * object with a string `type`, `challenge` and `origin`, an attestation object that is not a CBOR map with `fmt`,
 * `attStmt` and authenticator data, authenticator data too short, a field of the wrong type — is a malformed request
 * (400 `ERR_PASSKEY_MALFORMED`, in Jot's words), never a verification failure carrying the library's error text.
 * What decodes is returned, so a verification failure can be told in Jot's words too. The decoders are the library's
 * helpers, loaded with the first credential (lazy-webauthn.ts); a failure to load them is not a malformed credential.
 */
import type * as WebAuthnHelpers from '@simplewebauthn/server/helpers';

import { DomainError } from './errors.js';
import { webauthnHelpers } from './lazy-webauthn.js';

type Helpers = typeof WebAuthnHelpers;

/** The client data's members the verification reads. */
export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
}

/** A credential whose structure decodes. */
export interface PasskeyShape {
  clientData: ClientData;
  /** SHA-256 of the RP id the authenticator signed for. */
  rpIdHash: Uint8Array;
  /** The authenticator's UV flag (it verified the user: PIN or biometric). */
  userVerified: boolean;
}

/** The refusal of a credential that is not structurally a WebAuthn response. */
export function passkeyMalformed(why: string): DomainError {
  return new DomainError(
    'invalid',
    'ERR_PASSKEY_MALFORMED',
    `the passkey credential is malformed: ${why}; send the browser's credential as @simplewebauthn/browser returns it`,
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A non-empty base64url member's bytes. */
function bytesOf({ isoBase64URL }: Helpers, value: unknown, name: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== 'string' || value.length === 0 || !isoBase64URL.isBase64URL(value)) {
    throw passkeyMalformed(`${name} must be a non-empty base64url string`);
  }
  try {
    return isoBase64URL.toBuffer(value);
  } catch {
    throw passkeyMalformed(`${name} is not valid base64url`);
  }
}

function clientDataOf(helpers: Helpers, value: unknown): ClientData {
  const bytes = bytesOf(helpers, value, 'response.clientDataJSON');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw passkeyMalformed('response.clientDataJSON does not decode to UTF-8 JSON');
  }
  if (!isObject(parsed)) throw passkeyMalformed('response.clientDataJSON is not a JSON object');
  for (const member of ['type', 'challenge', 'origin'] as const) {
    if (typeof parsed[member] !== 'string') {
      throw passkeyMalformed(`response.clientDataJSON has no string "${member}"`);
    }
  }
  if (parsed.tokenBinding !== undefined && !isObject(parsed.tokenBinding)) {
    throw passkeyMalformed('response.clientDataJSON has a "tokenBinding" that is not an object');
  }
  return parsed as unknown as ClientData;
}

type AuthenticatorData = ReturnType<Helpers['parseAuthenticatorData']>;

function authenticatorDataOf(
  { parseAuthenticatorData }: Helpers,
  bytes: Uint8Array<ArrayBuffer>,
  name: string,
): AuthenticatorData {
  try {
    return parseAuthenticatorData(bytes);
  } catch {
    throw passkeyMalformed(`${name} is not valid authenticator data`);
  }
}

/** The common members: `id` and `rawId` (one string), `type` "public-key", a `response` object. */
function responseOf(credential: unknown): Record<string, unknown> {
  if (!isObject(credential)) throw passkeyMalformed('the credential is not an object');
  if (typeof credential.id !== 'string' || credential.id.length === 0) {
    throw passkeyMalformed('id must be a non-empty string');
  }
  if (credential.rawId !== credential.id) throw passkeyMalformed('rawId must equal id');
  if (credential.type !== 'public-key') throw passkeyMalformed('type must be "public-key"');
  if (!isObject(credential.response)) throw passkeyMalformed('response must be an object');
  return credential.response;
}

/** Checks a registration response's structure: client data, attestation object, attested credential data. */
export async function registrationShape(credential: unknown): Promise<PasskeyShape> {
  const helpers = await webauthnHelpers.load();
  const response = responseOf(credential);
  const clientData = clientDataOf(helpers, response.clientDataJSON);
  const attestation = bytesOf(helpers, response.attestationObject, 'response.attestationObject');
  let decoded: unknown;
  try {
    decoded = helpers.isoCBOR.decodeFirst(attestation);
  } catch {
    throw passkeyMalformed('response.attestationObject is not CBOR');
  }
  if (
    !(decoded instanceof Map) ||
    typeof decoded.get('fmt') !== 'string' ||
    !(decoded.get('attStmt') instanceof Map) ||
    !(decoded.get('authData') instanceof Uint8Array)
  ) {
    throw passkeyMalformed('response.attestationObject is not a map of "fmt", "attStmt" and "authData"');
  }
  const authData = authenticatorDataOf(
    helpers,
    Uint8Array.from(decoded.get('authData') as Uint8Array),
    'the attestation\'s "authData"',
  );
  if (
    !authData.flags.at ||
    authData.credentialID === undefined ||
    authData.credentialPublicKey === undefined
  ) {
    throw passkeyMalformed('the attestation\'s "authData" carries no attested credential data');
  }
  return { clientData, rpIdHash: authData.rpIdHash, userVerified: authData.flags.uv };
}

/** Checks an assertion's structure: client data, authenticator data, signature, user handle. */
export async function assertionShape(credential: unknown): Promise<PasskeyShape> {
  const helpers = await webauthnHelpers.load();
  const response = responseOf(credential);
  const clientData = clientDataOf(helpers, response.clientDataJSON);
  const authData = authenticatorDataOf(
    helpers,
    bytesOf(helpers, response.authenticatorData, 'response.authenticatorData'),
    'response.authenticatorData',
  );
  bytesOf(helpers, response.signature, 'response.signature');
  if (
    response.userHandle !== undefined &&
    response.userHandle !== null &&
    typeof response.userHandle !== 'string'
  ) {
    throw passkeyMalformed('response.userHandle must be a string');
  }
  return { clientData, rpIdHash: authData.rpIdHash, userVerified: authData.flags.uv };
}

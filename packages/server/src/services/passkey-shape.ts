/**
 * The structure of a passkey credential (WebAuthn Level 3 `RegistrationResponseJSON` / `AuthenticationResponseJSON`),
 * checked before `@simplewebauthn/server` sees it: what does not decode — client data that is not a base64url JSON
 * object with a string `type`, `challenge` and `origin`, an attestation object that is not a CBOR map with `fmt`,
 * `attStmt` and authenticator data, authenticator data too short, a field of the wrong type — is a malformed request
 * (400 `ERR_PASSKEY_MALFORMED`, in Jot's words), never a verification failure carrying the library's error text.
 * What decodes is returned, so a verification failure can be told in Jot's words too.
 */
import { isoBase64URL, isoCBOR, parseAuthenticatorData } from '@simplewebauthn/server/helpers';

import { DomainError } from './errors.js';

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
function bytesOf(value: unknown, name: string): Uint8Array<ArrayBuffer> {
  if (typeof value !== 'string' || value.length === 0 || !isoBase64URL.isBase64URL(value)) {
    throw passkeyMalformed(`${name} must be a non-empty base64url string`);
  }
  try {
    return isoBase64URL.toBuffer(value);
  } catch {
    throw passkeyMalformed(`${name} is not valid base64url`);
  }
}

function clientDataOf(value: unknown): ClientData {
  const bytes = bytesOf(value, 'response.clientDataJSON');
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

type AuthenticatorData = ReturnType<typeof parseAuthenticatorData>;

function authenticatorDataOf(bytes: Uint8Array<ArrayBuffer>, name: string): AuthenticatorData {
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
export function registrationShape(credential: unknown): PasskeyShape {
  const response = responseOf(credential);
  const clientData = clientDataOf(response.clientDataJSON);
  const attestation = bytesOf(response.attestationObject, 'response.attestationObject');
  let decoded: unknown;
  try {
    decoded = isoCBOR.decodeFirst(attestation);
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
export function assertionShape(credential: unknown): PasskeyShape {
  const response = responseOf(credential);
  const clientData = clientDataOf(response.clientDataJSON);
  const authData = authenticatorDataOf(
    bytesOf(response.authenticatorData, 'response.authenticatorData'),
    'response.authenticatorData',
  );
  bytesOf(response.signature, 'response.signature');
  if (
    response.userHandle !== undefined &&
    response.userHandle !== null &&
    typeof response.userHandle !== 'string'
  ) {
    throw passkeyMalformed('response.userHandle must be a string');
  }
  return { clientData, rpIdHash: authData.rpIdHash, userVerified: authData.flags.uv };
}

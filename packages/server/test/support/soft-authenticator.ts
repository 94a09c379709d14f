/**
 * A software WebAuthn authenticator for Node tests (WebAuthn Level 3 §6): an ES256 key pair per credential,
 * registration responses with "none" attestation and assertions signed over authenticatorData ‖ SHA-256(clientData),
 * in the JSON shapes browsers hand to `@simplewebauthn/browser`. Unlike a browser it ignores `excludeCredentials`
 * when asked to, so a test can present one credential twice.
 */
import { createHash, randomBytes, sign, type KeyObject } from 'node:crypto';

import { isoCBOR } from '@simplewebauthn/server/helpers';
import { keyPair } from '../../../../test-support/key-pair.js';

/** One credential held by the authenticator. */
export interface SoftCredential {
  id: Buffer;
  privateKey: KeyObject;
  /** COSE_Key (EC2, P-256, ES256) as CBOR. */
  cosePublicKey: Uint8Array;
  counter: number;
  userHandle: string;
}

const b64url = (data: Uint8Array | string): string => Buffer.from(data).toString('base64url');
const sha256 = (data: Uint8Array | string): Buffer => createHash('sha256').update(data).digest();

/** Flags: UP (user present) 0x01, UV (user verified) 0x04, AT (attested credential data) 0x40. */
function authenticatorData(rpId: string, flags: number, counter: number, attested?: Buffer): Buffer {
  const count = Buffer.alloc(4);
  count.writeUInt32BE(counter);
  return Buffer.concat([sha256(rpId), Buffer.from([flags]), count, attested ?? Buffer.alloc(0)]);
}

function clientData(type: 'webauthn.create' | 'webauthn.get', challenge: string, origin: string): Buffer {
  return Buffer.from(JSON.stringify({ type, challenge, origin, crossOrigin: false }));
}

/** Creates a fresh credential (not yet registered anywhere). */
export function newCredential(userHandle: string): SoftCredential {
  const { privateKey, publicKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const cose = new Map<number, number | Uint8Array>([
    [1, 2], // kty: EC2
    [3, -7], // alg: ES256
    [-1, 1], // crv: P-256
    [-2, Buffer.from(jwk.x!, 'base64url')],
    [-3, Buffer.from(jwk.y!, 'base64url')],
  ]);
  return { id: randomBytes(16), privateKey, cosePublicKey: isoCBOR.encode(cose), counter: 0, userHandle };
}

/** The `RegistrationResponseJSON` for `options` (from `/api/passkeys/register/options`). */
export function registrationResponse(
  credential: SoftCredential,
  options: { challenge: string; rp: { id?: string } },
  origin: string,
): Record<string, unknown> {
  const rpId = options.rp.id!;
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credential.id.length);
  const attested = Buffer.concat([
    Buffer.alloc(16), // AAGUID: none
    idLength,
    credential.id,
    Buffer.from(credential.cosePublicKey),
  ]);
  const authData = authenticatorData(rpId, 0x01 | 0x04 | 0x40, credential.counter, attested);
  const attestationObject = isoCBOR.encode(
    new Map<string, string | Map<string, string> | Uint8Array>([
      ['fmt', 'none'],
      ['attStmt', new Map<string, string>()],
      ['authData', authData],
    ]),
  );
  return {
    id: b64url(credential.id),
    rawId: b64url(credential.id),
    type: 'public-key',
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: b64url(clientData('webauthn.create', options.challenge, origin)),
      attestationObject: b64url(attestationObject),
      transports: ['internal'],
    },
  };
}

/** The `AuthenticationResponseJSON` for `options` (an assertion challenge); `tamper` spoils the signature. */
export function assertionResponse(
  credential: SoftCredential,
  options: { challenge: string; rpId?: string },
  origin: string,
  tamper = false,
): Record<string, unknown> {
  credential.counter += 1;
  const authData = authenticatorData(options.rpId!, 0x01 | 0x04, credential.counter);
  const data = clientData('webauthn.get', options.challenge, origin);
  const signature = sign('sha256', Buffer.concat([authData, sha256(data)]), credential.privateKey);
  if (tamper) signature[signature.length - 1]! ^= 0x01;
  return {
    id: b64url(credential.id),
    rawId: b64url(credential.id),
    type: 'public-key',
    clientExtensionResults: {},
    authenticatorAttachment: 'platform',
    response: {
      clientDataJSON: b64url(data),
      authenticatorData: b64url(authData),
      signature: b64url(signature),
      userHandle: b64url(credential.userHandle),
    },
  };
}

/** Request schemas and views of the MFA routes, and the proof a second step or step-up carries. */
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';

import type { MfaFactorView, MfaProofFields } from '@jot/contract';

import type { MfaProof } from '../services/mfa.js';
import type { MfaFactor } from '../store/index.js';
import { HttpError } from './errors.js';

/** The fields of a second-factor proof (the contract's `MfaProofFields`): exactly one of them. */
export type ProofBody = MfaProofFields;

/** JSON-schema properties of a proof. */
export const proofProperties = {
  code: {
    type: 'string',
    pattern: '^\\s*\\d{6}\\s*$',
    description: 'A 6-digit code of the authenticator app.',
  },
  recovery_code: { type: 'string', minLength: 8, maxLength: 40, description: 'One of the recovery codes.' },
  webauthn: {
    type: 'object',
    additionalProperties: true,
    description: 'The passkey assertion (AuthenticationResponseJSON of @simplewebauthn/browser).',
  },
} as const;

/** The proof in a request body; 400 unless exactly one kind is present. */
export function proofOf(body: ProofBody): MfaProof {
  const given = [body.code, body.recovery_code, body.webauthn].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new HttpError(400, 'ERR_VALIDATION', 'send exactly one of "code", "recovery_code" or "webauthn"');
  }
  if (body.code !== undefined) return { type: 'totp', code: body.code.trim() };
  if (body.recovery_code !== undefined) return { type: 'recovery_code', code: body.recovery_code };
  return { type: 'webauthn', response: body.webauthn as unknown as AuthenticationResponseJSON };
}

/** A factor as the API shows it (never the secret or key). */
export function publicFactor(factor: MfaFactor): MfaFactorView {
  return {
    id: factor.id,
    kind: factor.kind,
    name: factor.name,
    created_at: new Date(factor.createdAt).toISOString(),
    last_used_at: factor.lastUsedAt === null ? null : new Date(factor.lastUsedAt).toISOString(),
  };
}

/** Response schema of a factor. */
export const factorSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['totp', 'webauthn'] },
    name: { type: 'string' },
    created_at: { type: 'string' },
    last_used_at: { type: ['string', 'null'] },
  },
} as const;

/** A user-chosen factor name (not blank either: {@link factorName}). */
export const factorNameSchema = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** A factor name as sent, trimmed; 400 when nothing is left (only spaces passes the schema's length check). */
export function factorName(sent: string): string {
  const name = sent.trim();
  if (name === '') throw new HttpError(400, 'ERR_VALIDATION', 'give the factor a name');
  return name;
}

/**
 * JSON schemas of the bodies a browser or app sends to sign in, register, confirm its password and change it. Their
 * members are pinned to `@jot/contract`'s `LoginBody`, `RegisterBody`, `ReauthBody` and `PasswordChangeBody` by the
 * contract's type-level conformance test, so the schema Fastify validates with and the type the client sends cannot
 * drift apart.
 */
import { SESSION_DELIVERIES } from '@jot/contract';

import { newAccountBody } from './account-schemas.js';
import { emailSchema, newPasswordSchema, passwordSchema } from './schemas.js';

/** Where the new session's tokens go (the contract's `SessionDelivery`); absent: `JOT_TOKEN_DELIVERY`. */
export const deliverySchema = { type: 'string', enum: SESSION_DELIVERIES } as const;

/**
 * The device credentials a client without a cookie jar presents (http/device-credential.ts): the `device_token` of
 * an earlier sign-in's answer, or several joined by `.` as in the device cookie. Anything not well formed is simply
 * no credential; the bound only keeps an absurd value from being split.
 */
export const deviceTokenSchema = {
  type: 'string',
  maxLength: 1024,
  description: 'The device_token of an earlier sign-in (body delivery), or several joined by ".".',
} as const;

/** `POST /api/login`. */
export const loginBodySchema = {
  type: 'object',
  required: ['email', 'password'],
  additionalProperties: false,
  properties: {
    email: emailSchema,
    password: passwordSchema,
    delivery: deliverySchema,
    device_token: deviceTokenSchema,
  },
} as const;

/** `POST /api/register`: the account-creation body with a password being chosen. */
export const registerBodySchema = newAccountBody(newPasswordSchema);

/** `POST /api/reauth`. */
export const reauthBodySchema = {
  type: 'object',
  required: ['password'],
  additionalProperties: false,
  properties: { password: passwordSchema },
} as const;

/** `POST /api/password`: the current password is checked as at sign-in; the new one goes to the policy. */
export const passwordChangeBodySchema = {
  type: 'object',
  required: ['current_password', 'new_password'],
  additionalProperties: false,
  properties: { current_password: passwordSchema, new_password: newPasswordSchema },
} as const;

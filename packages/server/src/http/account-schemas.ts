/**
 * The bodies of the account routes: the two that create an account with a chosen password (self-registration, an
 * admin's `POST /api/admin/users`), accepting an invitation, the "send me a link" and "follow the link" routes, and
 * the profile changes. Their members are pinned to `@jot/contract`'s bodies by packages/contract/test/
 * account-bodies.test.ts, so the schema Fastify validates with and the type the web UI sends cannot drift apart.
 */

import { emailSchema, newPasswordSchema, passwordSchema } from './schemas.js';

/** A display name. */
const nameSchema = { type: 'string', maxLength: 200 } as const;

/** A one-time link's token. */
const linkTokenSchema = { type: 'string', minLength: 1, maxLength: 4096 } as const;

/** The JSON schema {@link newAccountBody} builds; its member names are kept in the type (the contract pins them). */
export interface NewAccountBodySchema<Password, Extra> {
  type: 'object';
  required: ['email', 'password'];
  additionalProperties: false;
  properties: { email: typeof emailSchema; password: Password; name: typeof nameSchema } & Extra;
}

/** `{ email, password, name?, …extra }`: `password` is the route's password schema, `extra` its other fields. */
export function newAccountBody<
  Password extends Readonly<Record<string, unknown>>,
  Extra extends Record<string, unknown> = Record<never, never>,
>(password: Password, extra: Extra = {} as Extra): NewAccountBodySchema<Password, Extra> {
  return {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: { email: emailSchema, password, name: nameSchema, ...extra },
  };
}

/** The JSON schema {@link linkBody} builds: the link's `token` and the route's other fields, all required. */
export interface LinkBodySchema<Extra> {
  type: 'object';
  required: ('token' | keyof Extra)[];
  additionalProperties: false;
  properties: { token: typeof linkTokenSchema } & Extra;
}

/** The body of a "follow the link" route: `{ token, …extra }`, every member required. */
export function linkBody<Extra extends Record<string, unknown> = Record<never, never>>(
  extra: Extra = {} as Extra,
): LinkBodySchema<Extra> {
  return {
    type: 'object',
    required: ['token', ...(Object.keys(extra) as (keyof Extra)[])],
    additionalProperties: false,
    properties: { token: linkTokenSchema, ...extra },
  };
}

/**
 * `POST /api/email/verify`: the link's token and, optionally, the account's password (the first verification of a
 * never-verified address asks for it: services/account-links.ts).
 */
export const emailVerifyBodySchema = {
  type: 'object',
  required: ['token'],
  additionalProperties: false,
  properties: { token: linkTokenSchema, password: passwordSchema },
} as const;

/**
 * `POST /api/email/change/confirm`: the link's token and, optionally, the account's password (asked for unless the
 * request carries a session of the account: services/registrant-proof.ts).
 */
export const emailChangeConfirmBodySchema = emailVerifyBodySchema;

/** `POST /api/password/reset`: the link's token and the new password (the policy applies). */
export const passwordResetBodySchema = linkBody({ new_password: newPasswordSchema });

/** `POST /api/password/forgot` and `POST /api/email/verification`: the address to send a link to. */
export const mailLinkRequestBodySchema = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: { email: emailSchema },
} as const;

/** `POST /api/invitations/accept`: the invitation's token, the password chosen, a display name. */
export const invitationAcceptBodySchema = {
  type: 'object',
  required: ['token', 'password'],
  additionalProperties: false,
  properties: { token: linkTokenSchema, password: newPasswordSchema, name: nameSchema },
} as const;

/** `PATCH /api/account`: the display name; `null` (or blank) clears it. */
export const profileBodySchema = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  properties: { name: { type: ['string', 'null'], maxLength: 200 } },
} as const;

/** `POST /api/email/change`: the new address. */
export const emailChangeBodySchema = {
  type: 'object',
  required: ['new_email'],
  additionalProperties: false,
  properties: { new_email: emailSchema },
} as const;

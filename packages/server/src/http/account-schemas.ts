/** The body of the two routes that create an account: self-registration and an admin's `POST /api/admin/users`. */

import { emailSchema } from './schemas.js';

/** A display name. */
const nameSchema = { type: 'string', maxLength: 200 } as const;

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

/** The body of the two routes that create an account: self-registration and an admin's `POST /api/admin/users`. */

import { emailSchema } from './schemas.js';

/** `{ email, password, name?, …extra }`: `password` is the route's password schema, `extra` its other fields. */
export function newAccountBody<Extra extends Record<string, unknown>>(
  password: Readonly<Record<string, unknown>>,
  extra: Extra = {} as Extra,
): {
  type: 'object';
  required: ['email', 'password'];
  additionalProperties: false;
  properties: Record<string, unknown>;
} {
  return {
    type: 'object',
    required: ['email', 'password'],
    additionalProperties: false,
    properties: { email: emailSchema, password, name: { type: 'string', maxLength: 200 }, ...extra },
  };
}

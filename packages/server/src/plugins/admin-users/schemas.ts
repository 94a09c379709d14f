/**
 * Schemas shared by the admin routes: the admin user routes here, and the invitations (plugins/invitations/). The
 * bodies are pinned to `@jot/contract`'s by packages/contract/test/account-bodies.test.ts.
 */
import { newAccountBody } from '../../http/account-schemas.js';
import { emailSchema, newPasswordSchema } from '../../http/schemas.js';

/**
 * Roles as the admin API accepts them: when an admin creates an account, replaces a user's roles, or invites an
 * address (its account will have them). One declaration, so a role valid in one place is valid in all three.
 */
export const rolesSchema = {
  type: 'array',
  maxItems: 32,
  uniqueItems: true,
  items: { type: 'string', minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' },
} as const;

/**
 * `POST /api/admin/users`: the account-creation body (a password being chosen) with its roles, and whether the
 * admin vouches for the address (`email_verified`).
 */
export const adminUserBodySchema = newAccountBody(newPasswordSchema, {
  roles: rolesSchema,
  email_verified: { type: 'boolean' } as const,
});

/** `PUT /api/admin/users/:id/roles`: the new roles. */
export const rolesBodySchema = {
  type: 'object',
  required: ['roles'],
  additionalProperties: false,
  properties: { roles: rolesSchema },
} as const;

/** `POST /api/admin/invitations`: the address and the roles its account will have. */
export const invitationCreateBodySchema = {
  type: 'object',
  required: ['email'],
  additionalProperties: false,
  properties: { email: emailSchema, roles: rolesSchema },
} as const;

/** `:id` of a user or an invitation. */
export { idParams } from '../../http/schemas.js';

/** Schemas shared by the admin routes: the admin user routes here, and the invitations (plugins/invitations/). */

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

/** `:id` of a user or an invitation. */
export { idParams } from '../../http/schemas.js';

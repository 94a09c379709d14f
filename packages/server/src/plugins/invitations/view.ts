/** How an invitation goes over the wire: the `InvitationView` of `@jot/contract` and the response schema listing it. */
import type { InvitationView } from '@jot/contract';

import type { Invitation } from '../../store/index.js';

/** The response schema of one invitation (Fastify's serialiser drops any member not listed). */
export const invitationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    roles: { type: 'array', items: { type: 'string' } },
    created_at: { type: 'string' },
    expires_at: { type: 'string' },
  },
} as const;

/** The stored invitation as its wire view (times as ISO 8601). */
export function invitationView(invitation: Invitation): InvitationView {
  return {
    id: invitation.id,
    email: invitation.email,
    roles: invitation.roles,
    created_at: new Date(invitation.createdAt).toISOString(),
    expires_at: new Date(invitation.expiresAt).toISOString(),
  };
}

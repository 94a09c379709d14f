/** What the API shows of users and sessions (never hashes or internal fields), with their response schemas. */
import type { SessionView, UserView } from '@jot/contract';

import type { Session, User } from '../store/index.js';

/** The public view of a user. */
export function publicUser(user: User): UserView {
  return {
    id: user.id,
    email: user.email,
    name: user.name,
    roles: user.roles,
    status: user.status,
    email_verified: user.emailVerifiedAt !== null,
    created_at: new Date(user.createdAt).toISOString(),
  };
}

/** Response schema of a user. */
export const userSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string' },
    name: { type: ['string', 'null'] },
    roles: { type: 'array', items: { type: 'string' } },
    status: { type: 'string' },
    email_verified: { type: 'boolean' },
    created_at: { type: 'string' },
  },
} as const;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The public view of a session. */
export function publicSession(session: Session, currentId?: string): SessionView {
  return {
    id: session.id,
    current: session.id === currentId,
    created_at: iso(session.createdAt),
    last_used_at: iso(session.lastUsedAt),
    expires_at: iso(
      session.idleTimeoutMs === null
        ? session.absoluteExpiresAt
        : Math.min(session.absoluteExpiresAt, session.lastUsedAt + session.idleTimeoutMs),
    ),
    auth_time: iso(session.authTime),
    ip: session.ip,
    user_agent: session.userAgent,
  };
}

/** Response schema of a session. */
export const sessionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    current: { type: 'boolean' },
    created_at: { type: 'string' },
    last_used_at: { type: 'string' },
    expires_at: { type: 'string' },
    auth_time: { type: 'string' },
    ip: { type: ['string', 'null'] },
    user_agent: { type: ['string', 'null'] },
  },
} as const;

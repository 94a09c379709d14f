/**
 * Accounts: registration, sign-in and `whoami`.
 * Unknown email and wrong password are indistinguishable: same status, same body, a dummy argon2 verification and
 * a failure padded to the slowest recent verification, so they take the same time whatever the stored hash.
 */
import { performance } from 'node:perf_hooks';

import type { FastifyInstance } from 'fastify';

import type { WhoAmIResponse } from '@jot/contract';

import { clientInfo } from '../http/client-info.js';
import { publicUser, userSchema } from '../http/views.js';

import { HttpError } from '../http/errors.js';
import { DomainError } from '../services/errors.js';
import { authRateLimit } from '../http/rate-limit.js';
import {
  authErrors,
  emailSchema,
  newPasswordSchema,
  passwordSchema,
  tokenResponseSchema,
} from '../http/schemas.js';
import { tokenResponse } from '../http/token-response.js';
import { loginProof } from '../http/dpop-proof.js';
import { StoreError, type SessionDelivery, type Store, type User } from '../store/index.js';
import { authenticate, authOf } from './auth.js';

/**
 * In development and test only (never in production), the first account becomes the admin unless JOT_ADMIN_EMAIL
 * names one. Being the oldest account is not enough when two register at once (commit order can differ from
 * timestamps), so the role is also claimed through a fixed primary key that only one insert can win.
 */
async function claimFirstAdmin(user: User, store: Store): Promise<boolean> {
  const [first] = await store.listUsers({ limit: 1 });
  if (first?.id !== user.id) return false;
  try {
    await store.insertOneTimeToken({
      tokenHash: 'bootstrap-admin',
      purpose: 'bootstrap_admin',
      userId: user.id,
      expiresAt: Number.MAX_SAFE_INTEGER,
    });
    return true;
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_STORE_CONFLICT') return false;
    throw err;
  }
}

const INVALID_CREDENTIALS = 'the email or password is incorrect';

/** Registers the account routes. */
export async function accountsPlugin(app: FastifyInstance): Promise<void> {
  const { store, passwords, sessions, events, config, accounts, loginThrottle } = app.jot;
  const authLimit = { rateLimit: authRateLimit(config) };

  app.post<{ Body: { email: string; password: string; name?: string } }>(
    '/api/register',
    {
      config: authLimit,
      schema: {
        tags: ['accounts'],
        summary:
          'Create an account, when JOT_REGISTRATION=open. Outside production the first account becomes an admin.',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: emailSchema,
            password: newPasswordSchema,
            name: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          201: userSchema,
          400: { $ref: 'JotError#' },
          403: { $ref: 'JotError#' },
          409: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      if (config.registration === 'invite') {
        throw new HttpError(
          403,
          'ERR_REGISTRATION_INVITE_ONLY',
          'accounts on this server are created from invitations only; ask an administrator for one',
        );
      }
      if (config.registration !== 'open') {
        throw new HttpError(
          403,
          'ERR_REGISTRATION_CLOSED',
          'registration is closed on this server; ask an administrator for an account',
        );
      }
      const { email, password, name } = request.body;
      let user = await accounts.create({ email, password, name, via: 'register', ip: request.ip });
      if (
        config.nodeEnv !== 'production' &&
        config.adminEmail === undefined &&
        (await claimFirstAdmin(user, store))
      ) {
        const promoted = await store.setRoles(user.id, ['admin']);
        if (typeof promoted === 'object') user = promoted;
        await events.record('admin_created', {
          userId: user.id,
          ip: request.ip,
          detail: { via: 'first_registrant' },
        });
      }
      if (config.emailVerification !== 'off') await app.jot.accountMail.sendVerification(user);
      return reply.code(201).send(publicUser(user));
    },
  );

  app.post<{ Body: { email: string; password: string; delivery?: SessionDelivery } }>(
    '/api/login',
    {
      config: authLimit,
      schema: {
        tags: ['accounts'],
        summary: 'Sign in with email and password; returns an access token and a refresh token.',
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: emailSchema,
            password: passwordSchema,
            delivery: { type: 'string', enum: ['bearer', 'cookie', 'memory'] },
          },
        },
        response: {
          200: tokenResponseSchema,
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
          429: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const { email, password } = request.body;
      const delivery = request.body.delivery ?? config.tokenDelivery;
      // The proof first: a missing nonce costs the client one round trip, not a second password hash.
      const dpopJkt = await loginProof(request, reply, delivery);
      const attempt = await loginThrottle.begin(email).catch(async (err: unknown) => {
        if (err instanceof DomainError)
          await events.record('rate_limited', { ip: request.ip, detail: { limit: 'login_account' } });
        throw err;
      });
      // Read BEFORE the password check: the session will carry this credential generation (services/sessions.ts).
      const user = await store.getUserByEmail(email);
      const started = performance.now();
      const ok =
        user === undefined
          ? (await passwords.verifyDummy(password), false)
          : await passwords.verify(user.passwordHash, password);
      if (user === undefined || !ok) {
        // Padded straight after the check: the bookkeeping below costs the same for every account, outside it.
        await passwords.padFailure(started);
        const lock = await attempt.finish(false);
        app.jot.metrics.logins.inc({ result: 'failure' });
        await events.record('login_failed', { userId: user?.id, ip: request.ip });
        if (lock > 0) {
          await events.record('account_locked', {
            userId: user?.id,
            ip: request.ip,
            detail: { seconds: Math.ceil(lock / 1000) },
          });
        }
        throw new HttpError(401, 'ERR_INVALID_CREDENTIALS', INVALID_CREDENTIALS, { error: 'invalid_grant' });
      }
      await attempt.finish(true);
      if (user.status !== 'active') {
        app.jot.metrics.logins.inc({ result: 'disabled' });
        throw new HttpError(403, 'ERR_USER_DISABLED', 'this account is disabled; contact an administrator');
      }
      if (config.emailVerification === 'required' && user.emailVerifiedAt === null) {
        throw new HttpError(
          403,
          'ERR_EMAIL_NOT_VERIFIED',
          'confirm your email address first with the link we sent you; to get a new link, POST your email to /api/email/verification (or use "Send a new link" on the sign-in page)',
        );
      }
      if (passwords.needsRehash(user.passwordHash)) {
        // Compare-and-swap: if the password changed since it was read, the new hash is simply not written.
        await store.updatePasswordHash(user.id, await passwords.hash(password), {
          expect: user.passwordHash,
        });
      }
      // With a second factor enrolled the password is only the first step (see plugins/mfa-signin.ts).
      const mfaRequired = await app.jot.mfa.signIn.challenge(user, request.body.delivery);
      if (mfaRequired !== undefined)
        return reply.code(403).header('cache-control', 'no-store').send(mfaRequired);
      const pair = await sessions.start(user, clientInfo(request), { delivery, dpopJkt });
      app.jot.metrics.logins.inc({ result: 'success' });
      await events.record('login_succeeded', { userId: user.id, sessionId: pair.session.id, ip: request.ip });
      return tokenResponse(request, reply, pair);
    },
  );

  app.get(
    '/api/whoami',
    {
      preHandler: authenticate,
      schema: {
        tags: ['accounts'],
        summary: 'The verified claims of the presented access token and the current profile.',
        response: {
          200: {
            type: 'object',
            properties: {
              claims: { type: 'object', additionalProperties: true },
              user: userSchema,
              csrf_token: { type: 'string' },
            },
          },
          ...authErrors,
        },
      },
    },
    async (request, reply) => {
      // The user as this request's revocation check read it: the same statement that proved the token unrevoked.
      const auth = authOf(request);
      const { claims } = auth;
      const user = auth.user ?? (await store.getUserById(claims.sub));
      if (user === undefined) throw new HttpError(404, 'ERR_NOT_FOUND', 'the account no longer exists');
      reply.header('cache-control', 'no-store');
      // A page that reloaded bootstraps from here: the CSRF token of its cookie session comes with the claims.
      const csrfToken = claims.cth === undefined ? undefined : app.jot.csrf.forSession(claims.sid);
      return { claims, user: publicUser(user), csrf_token: csrfToken } satisfies WhoAmIResponse;
    },
  );
}

/** The limits both password-checking routes share (built once: one per-user budget for both). */
import type { preHandlerAsyncHookHandler } from 'fastify';

export interface PasswordCheckLimits {
  /** Per client address (route `config`). */
  perAddress: { rateLimit: { max: number; timeWindow: number } };
  /** Per verified user (after `authenticate`). */
  perUser: preHandlerAsyncHookHandler;
}

/** The answers both routes share besides their 200. */

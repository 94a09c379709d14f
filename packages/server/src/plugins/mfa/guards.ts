/** The pre-handlers and limits the `/api/mfa` routes share. */
import type { preHandlerAsyncHookHandler } from 'fastify';

/** Built once by the plugin, so the per-user budget is one budget. */
export interface MfaGuards {
  /** A recent (multi-factor, when enrolled) sign-in. */
  fresh: preHandlerAsyncHookHandler;
  /** The per-address limit of code-checking routes (route `config`). */
  credentialLimit: { rateLimit: { max: number; timeWindow: number } };
  /** The per-verified-user limit of code-checking routes (after `authenticate`). */
  perUser: preHandlerAsyncHookHandler;
}

/** The recovery codes as answered (shown once). */
export const recoveryCodesSchema = { type: 'array', items: { type: 'string' } } as const;

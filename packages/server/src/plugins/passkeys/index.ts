/**
 * Passkeys: registration by a signed-in user (after a recent sign-in, like every new factor) and passwordless
 * sign-in with a discoverable passkey that verified the user (PIN or biometric) — a multi-factor authentication on
 * its own (`amr` hwk + user + mfa, `acr` aal2).
 */
import type { FastifyInstance } from 'fastify';

import { registerPasskeyLoginRoutes } from './login.js';
import { registerPasskeyRegistrationRoutes } from './register.js';

export { PASSWORDLESS_AMR } from './login.js';

/** Registers the `/api/passkeys` routes. */
export async function passkeysPlugin(app: FastifyInstance): Promise<void> {
  registerPasskeyRegistrationRoutes(app);
  registerPasskeyLoginRoutes(app);
}

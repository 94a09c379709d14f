/**
 * Server-provided DPoP nonces (RFC 9449 §8–9) that every instance accepts without shared state: a nonce is a time
 * window number and an HMAC over it, so any instance holding the same secret can check it, and it expires when
 * its window is more than one step old.
 */
import { Buffer } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Issues and checks nonces. */
export interface DPoPNonces {
  /** The nonce to send now in `DPoP-Nonce`. */
  current(): string;
  /** True for a nonce of the current or the previous window made with this secret. */
  isValid(nonce: string): boolean;
}

/**
 * Nonces that change every `windowSeconds` and stay valid for one more window.
 *
 * @example
 * const nonces = createDPoPNonces(hkdfSecret, { windowSeconds: 300 });
 * reply.header('dpop-nonce', nonces.current());
 */
export function createDPoPNonces(
  secret: Uint8Array,
  options: { windowSeconds?: number; clock?: () => number } = {},
): DPoPNonces {
  if (secret.length < 32) throw new TypeError('createDPoPNonces: the secret needs at least 32 bytes');
  const windowMs = (options.windowSeconds ?? 300) * 1000;
  if (!Number.isFinite(windowMs) || windowMs < 1000)
    throw new TypeError('createDPoPNonces: bad windowSeconds');
  const clock = options.clock ?? Date.now;
  const mac = (window: number): Buffer =>
    createHmac('sha256', secret).update(`jot-dpop-nonce:${window}`).digest().subarray(0, 16);
  const make = (window: number): string => `${window.toString(36)}.${mac(window).toString('base64url')}`;
  return {
    current: () => make(Math.floor(clock() / windowMs)),
    isValid(nonce) {
      const match = /^([0-9a-z]{1,12})\.([\w-]{22})$/.exec(nonce);
      if (match === null) return false;
      const window = parseInt(match[1] as string, 36);
      const now = Math.floor(clock() / windowMs);
      if (window !== now && window !== now - 1) return false;
      // Compared as the whole string `current` wrote for that window: a leading zero in the window number or other
      // values of the MAC's four unused trailing bits would decode alike but are not what was issued.
      const expected = Buffer.from(make(window));
      const given = Buffer.from(nonce);
      return given.length === expected.length && timingSafeEqual(given, expected);
    },
  };
}

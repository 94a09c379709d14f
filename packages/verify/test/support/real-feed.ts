/** A real Jot server's key set and revocation feed, as a replicated verifier is pointed at them in the suites. */
import type { ReplicatedRevocationOptions } from '../../src/index.js';

/** `jwksUri` and a `replicated` revocation option following the feed of the server at `url` with `secret`. */
export function realFeed(
  url: string,
  secret: string,
  revocation: Partial<Omit<ReplicatedRevocationOptions, 'strategy'>> = {},
): { jwksUri: string; revocation: ReplicatedRevocationOptions } {
  return {
    jwksUri: `${url}/.well-known/jwks.json`,
    revocation: {
      strategy: 'replicated',
      secret,
      feedUrl: `${url}/api/revocations`,
      streamUrl: `${url}/api/revocations/stream`,
      ...revocation,
    },
  };
}

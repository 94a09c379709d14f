/**
 * A verifier's `clockTolerance` against how long the issuer keeps revocation entries: a verifier accepts a token
 * until `exp` plus its own tolerance, so every entry must outlive that — also when the verifier's tolerance is larger
 * than the server's and its copy was loaded after the server would have dropped the entry. The issuer keeps entries
 * `FEED_RETENTION_SLACK_SECONDS` longer than its own tolerance needs, and a verifier with a tolerance above that is
 * refused when it is built.
 */
import { FEED_RETENTION_SLACK_SECONDS } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { codeOf } from './support/outcome.js';
import { realFeed } from './support/real-feed.js';
import { recordingLogger } from './support/wait.js';

const SECRET = 'tolerance-revocation-secret-0123456789abcdef';
const ISSUER = 'http://jot.test';
let offset = 0;
const clock = (): number => Date.now() + offset;
let server: TestServer;
const verifiers: Verifier[] = [];

beforeAll(async () => {
  // The server allows no clock tolerance at all; the verifiers below allow 30 s.
  server = await startServer(
    { revocationSecret: SECRET, clockTolerance: '0s', accessTokenTtl: '1m' },
    { clock },
  );
});
afterAll(async () => {
  await Promise.all(verifiers.map((v) => v.close()));
  await server?.close();
});

function replicated(extra: Partial<VerifierOptions> = {}): Verifier {
  const verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    ...realFeed(server.url, SECRET),
    clock,
    clockTolerance: '30s',
    logger: recordingLogger(),
    ...extra,
  });
  verifiers.push(verifier);
  return verifier;
}

describe('a verifier more tolerant of clock skew than the issuer', () => {
  it('still refuses a revoked token within its tolerance after exp, from a copy loaded after exp', async () => {
    const { access_token: revoked } = await signUp(server, 'revoked-token@example.com');
    const { access_token: loggedOut } = await signUp(server, 'logged-out@example.com');
    const { access_token: untouched } = await signUp(server, 'untouched@example.com');
    const form = new URLSearchParams({ token: revoked, client_id: 'jot' });
    const res = await fetch(`${server.url}/oauth/revoke`, { method: 'POST', body: form });
    expect(res.status).toBe(200);
    expect((await server.request('POST', '/api/logout', { token: loggedOut })).status).toBe(204);

    // 10 s past exp: expired for the server, still within the verifier's 30 s.
    const exp = decodeUnverified(revoked).payload.exp!;
    offset = exp * 1000 + 10_000 - Date.now();
    const verifier = replicated();
    await verifier.ready();
    expect(await codeOf(verifier.verify(untouched))).toBe('accepted');
    expect(await codeOf(verifier.verify(revoked))).toBe('ERR_TOKEN_REVOKED');
    expect(await codeOf(verifier.verify(loggedOut))).toBe('ERR_TOKEN_REVOKED');
  });
});

describe('a tolerance the issuer does not cover', () => {
  const over = `${FEED_RETENTION_SLACK_SECONDS + 1}s`;
  it("is refused with a revocation copy (replicated, or the server's Redis)", () => {
    expect(() => replicated({ clockTolerance: over })).toThrow(/clockTolerance/);
    expect(() =>
      replicated({
        clockTolerance: over,
        revocation: { strategy: 'strict', redis: 'redis://127.0.0.1:6379' },
      }),
    ).toThrow(/clockTolerance/);
  });

  it('is allowed up to the slack, and with introspection or no revocation at all', () => {
    expect(() => replicated({ clockTolerance: `${FEED_RETENTION_SLACK_SECONDS}s` })).not.toThrow();
    expect(() =>
      replicated({ clockTolerance: over, revocation: { strategy: 'strict', secret: SECRET } }),
    ).not.toThrow();
    expect(() => replicated({ clockTolerance: over, revocation: 'none' })).not.toThrow();
  });
});

/**
 * Strict Redis verifiers trust only a completeness marker their own deployment wrote (review finding: after Redis
 * lost its data, the first deployment to copy into a shared namespace wrote the marker, and the other deployment's
 * verifiers trusted that list — accepting tokens revoked in their own deployment — until the other deployment's
 * next pass, or for as long as its servers were down). With `revocation.deployment` the marker must name that
 * deployment; without it the verifier pins the deployment of the first marker it reads. Another deployment's marker
 * is no marker: refused (`ERR_VERIFY_REVOCATION_REFUSED`, `reason` `deployment`, even with `failOpen`), or asked of
 * the introspection fallback.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AUDIENCE } from '../../../test-support/fake-issuer.js';
import { createVerifier, type Verifier, type VerifierOptions } from '../src/index.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { outcomeOf } from './support/outcome.js';
import { recordingLogger } from './support/wait.js';

/** Two deployments' ids (the shape `deploymentId` gives: 16 base64url characters). */
const A = 'AAAAaaaa0000____';
const B = 'BBBBbbbb1111----';
const marker = (deployment?: string): string =>
  JSON.stringify({ cursor: 7, at: Date.now(), ...(deployment === undefined ? {} : { deployment }) });

const harness = useIssuerVerifier();
/** An introspection endpoint that answers every token `active: false` (revoked in its own deployment). */
let introspection: Server;
let introspectionUrl = '';

beforeAll(async () => {
  introspection = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"active":false}');
  });
  await new Promise<void>((resolve) => introspection.listen(0, '127.0.0.1', resolve));
  introspectionUrl = `http://127.0.0.1:${(introspection.address() as AddressInfo).port}/api/introspect`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => introspection?.close(() => resolve()));
});

/** A Redis that answers nothing revoked and `current.marker` as the marker. */
function mirror(first: string | null): {
  current: { marker: string | null };
  mget(): Promise<(string | null)[]>;
} {
  const current = { marker: first };
  return { current, mget: () => Promise.resolve([null, null, null, current.marker]) };
}

function build(
  revocation: Partial<Extract<VerifierOptions['revocation'], { redis: unknown }>>,
  logger = recordingLogger(),
): Verifier {
  return harness.build({ revocation: { strategy: 'strict', redis: mirror(null), ...revocation }, logger });
}

/** `accepted`, or the code and reason of the refusal. */
const outcome = (v: Verifier): Promise<string> => outcomeOf(v.verify(harness.issuer.tokens.sign()));

describe('strict Redis with revocation.deployment', () => {
  it("trusts its deployment's marker, and refuses another deployment's or an earlier version's, also with failOpen", async () => {
    const redis = mirror(marker(A));
    const logger = recordingLogger();
    const v = build({ redis, deployment: A }, logger);
    expect(await outcome(v)).toBe('accepted');
    expect(v.stats().revocation.deployment).toBe(A);

    redis.current.marker = marker(B);
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    const result = await v.authenticate({
      method: 'GET',
      headers: { authorization: `Bearer ${harness.issuer.tokens.sign()}` },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.response.status).toBe(503);
      expect(result.response.body.code).toBe('ERR_VERIFY_REVOCATION_REFUSED');
      expect(result.response.body.error_description).toMatch(/written by another deployment/);
      // The ids are for the operator's log, not for clients.
      expect(result.response.body.error_description).not.toContain(B);
    }
    // The operator is told what to check, once a minute at most: whose marker it is, the namespace, the fix.
    const errors = logger.lines.filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toContain(`"${B}"`);
    expect(errors[0]!.message).toContain(`"${A}" of revocation.deployment`);
    expect(errors[0]!.message).toMatch(/JOT_REDIS_NAMESPACE/);
    expect(errors[0]!.message).toMatch(/JOT_KEK or JOT_ISSUER changed/);
    expect(errors[0]!.message).toMatch(/jot redis deployment-id/);
    expect(v.stats().revocation.lastError).toContain(`"${B}"`);

    // A server of an earlier version names no deployment: not this deployment's either.
    redis.current.marker = marker();
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');

    // Redis answered: another deployment's mirror is a refusal, never an outage that failOpen would accept.
    const failOpen = build({ redis: mirror(marker(B)), deployment: A, failOpen: true });
    expect(await outcome(failOpen)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    expect(failOpen.stats().revocation).toMatchObject({ failOpen: 0, failClosed: 1 });

    redis.current.marker = marker(A);
    expect(await outcome(v)).toBe('accepted');
  });

  it("with a secret, asks the introspection endpoint instead of trusting another deployment's marker", async () => {
    const logger = recordingLogger();
    const v = build(
      { redis: mirror(marker(B)), deployment: A, secret: 'introspection-secret', introspectionUrl },
      logger,
    );
    // The foreign mirror has no entry for the token; the deployment's own server says it is revoked.
    expect(await outcome(v)).toBe('ERR_TOKEN_REVOKED inactive');
    // Still logged: the fallback hides the misconfiguration from clients, not from the operator.
    expect(logger.lines.filter((l) => l.level === 'error')[0]?.message).toContain(`"${B}"`);
  });
});

describe('strict Redis without revocation.deployment: the first deployment is pinned', () => {
  it("pins the first marker's deployment, and refuses another's after Redis lost its data", async () => {
    const redis = mirror(marker(A));
    const logger = recordingLogger();
    const v = build({ redis }, logger);
    expect(v.stats().revocation.deployment).toBeUndefined();
    expect(await outcome(v)).toBe('accepted');
    expect(v.stats().revocation.deployment).toBe(A);
    expect(logger.lines).toContainEqual({ level: 'info', message: expect.stringContaining(`"${A}"`) });

    // Redis restarts empty: no marker, then the other deployment (same namespace) copies first and writes its own.
    redis.current.marker = null;
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    redis.current.marker = marker(B);
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    // Never silently locked out: the log says a changed KEK or issuer looks the same, and how to move on.
    const error = logger.lines.find((l) => l.level === 'error')?.message ?? '';
    expect(error).toContain(`"${A}" this verifier pinned from the first marker it read`);
    expect(error).toMatch(/restart the verifier, or set revocation\.deployment to the new id/);
    // Not re-pinned by the other deployment's marker, however long it stays.
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    expect(v.stats().revocation.deployment).toBe(A);

    // Its own deployment copies again: trusted again.
    redis.current.marker = marker(A);
    expect(await outcome(v)).toBe('accepted');
  });

  it("trusts an earlier version's marker (no deployment) only while nothing is pinned: rolling upgrades", async () => {
    const redis = mirror(marker());
    const v = build({ redis });
    expect(await outcome(v)).toBe('accepted');
    expect(v.stats().revocation.deployment).toBeUndefined();
    redis.current.marker = marker(A);
    expect(await outcome(v)).toBe('accepted');
    expect(v.stats().revocation.deployment).toBe(A);
    redis.current.marker = marker();
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
  });

  it('names the fix for a marker of an earlier version: upgrading the servers, not a changed key', async () => {
    // A rolling upgrade: instances of both versions renew the marker in turn. Telling the operator that the KEK or
    // issuer changed, or to restart the verifier (which would trust the unnamed marker again), would mislead.
    const redis = mirror(marker(A));
    const logger = recordingLogger();
    const v = build({ redis }, logger);
    expect(await outcome(v)).toBe('accepted');
    redis.current.marker = marker();
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    const error = logger.lines.find((l) => l.level === 'error')?.message ?? '';
    expect(error).toMatch(/written by a Jot server of an earlier version/);
    expect(error).toMatch(/upgrade every server/i);
    expect(error).toMatch(/JOT_REDIS_NAMESPACE/);
    expect(error).not.toMatch(/JOT_KEK or JOT_ISSUER changed/);
    expect(error).not.toMatch(/restart the verifier/);
  });

  it("'pin' says the default out loud", async () => {
    const redis = mirror(marker(A));
    const v = build({ redis, deployment: 'pin' });
    expect(await outcome(v)).toBe('accepted');
    redis.current.marker = marker(B);
    expect(await outcome(v)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
  });
});

describe('a marker that cannot be read', () => {
  it.each([
    'not json',
    '"complete"',
    '[1]',
    'null',
    '{"cursor":"7"}',
    '{"cursor":7,"deployment":7}',
    '{"deployment":"x"}',
  ])('%s is no marker, pinned or given, and pins nothing', async (odd) => {
    const pinning = build({ redis: mirror(odd) });
    expect(await outcome(pinning)).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(pinning.stats().revocation.deployment).toBeUndefined();
    expect(pinning.stats().revocation.lastError).toMatch(/marker cannot be read/);
    const given = build({ redis: mirror(odd), deployment: A, failOpen: true });
    expect(await outcome(given)).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
  });
});

describe('revocation.deployment: misuse is a TypeError when the verifier is built', () => {
  const make = (revocation: unknown) => () =>
    createVerifier({
      issuer: 'http://jot.test',
      audience: AUDIENCE,
      jwksUri: 'http://127.0.0.1:9/jwks.json',
      revocation: revocation as VerifierOptions['revocation'],
      logger: recordingLogger(),
    });
  const redis = mirror(marker(A));

  it('refuses what cannot be a deployment id', () => {
    // The KEK pasted by mistake (43 characters) is among them: it must never be configured here.
    for (const bad of [
      '',
      'AAAAaaaa0000___',
      'AAAAaaaa0000_____',
      'AAAAaaaa0000__+/',
      ` ${A}`,
      'x'.repeat(43),
      7,
    ]) {
      expect(make({ strategy: 'strict', redis, deployment: bad }), String(bad)).toThrow(TypeError);
      expect(make({ strategy: 'strict', redis, deployment: bad }), String(bad)).toThrow(
        /"revocation.deployment" \(the server's deployment id\)/,
      );
    }
    expect(make({ strategy: 'strict', redis, deployment: A })).not.toThrow();
    expect(make({ strategy: 'strict', redis, deployment: 'pin' })).not.toThrow();
  });

  it('refuses it without redis', () => {
    expect(make({ strategy: 'strict', secret: 'introspection-secret', deployment: A })).toThrow(
      /"revocation.deployment".*it needs "redis"/,
    );
  });
});

describe('pinning under concurrency', () => {
  it('two first requests answered with different deployments pin one: the other is refused, never both accepted', async () => {
    // Redis lost its data while two first requests were in flight: one MGET saw the marker of one deployment, the
    // other that of another (written after the flush). Whichever answer is judged first pins; the other is foreign.
    const answers: ((values: (string | null)[]) => void)[] = [];
    const redis = {
      mget: () => new Promise<(string | null)[]>((resolve) => answers.push(resolve)),
    };
    const v = build({ redis });
    const first = outcome(v);
    const second = outcome(v);
    await expect.poll(() => answers.length).toBe(2);
    // The later read is judged first: its deployment (B) is pinned, and the earlier read's (A) is refused.
    answers[1]!([null, null, null, marker(B)]);
    answers[0]!([null, null, null, marker(A)]);
    expect([await first, await second]).toEqual(['ERR_VERIFY_REVOCATION_REFUSED deployment', 'accepted']);
    expect(v.stats().revocation.deployment).toBe(B);
  });
});

describe('the introspection fallback with failOpen', () => {
  it("counts the fallback's decisions in stats(): a foreign marker and an unreachable server is a fail-open, seen", async () => {
    // Nothing listens on port 9: the fallback cannot answer, and failOpen accepts the verified token — the
    // documented meaning of failOpen for introspection. The operator must see it among the failOpen decisions.
    const v = build({
      redis: mirror(marker(B)),
      deployment: A,
      secret: 'introspection-secret',
      introspectionUrl: 'http://127.0.0.1:9/api/introspect',
      failOpen: true,
    });
    expect(await outcome(v)).toBe('accepted');
    expect(v.stats().revocation).toMatchObject({ failOpen: 1, failClosed: 0, stale: true });
    // Without failOpen the same is a refusal, counted likewise.
    const closed = build({
      redis: mirror(marker(B)),
      deployment: A,
      secret: 'introspection-secret',
      introspectionUrl: 'http://127.0.0.1:9/api/introspect',
    });
    expect(await outcome(closed)).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE introspection');
    expect(closed.stats().revocation).toMatchObject({ failOpen: 0, failClosed: 1, stale: true });
  });
});

/**
 * JWT claims (RFC 7519 §4.1, RFC 8725 §3.8–3.12): NumericDates are finite numbers and checked against an injected
 * clock with tolerance, `exp` is required by default, `iss` is one string compared exactly, `aud` a string or an
 * array of strings compared exactly, `typ` explicit, and a `__proto__` claim stays an ordinary own property.
 */
import { describe, expect, it } from 'vitest';

import { createVerifier, sign, verify, type VerifyOptions } from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { NOW, NOW_DATE, SECRET_KEY, claims, forge } from './support/tokens.js';

const BASE: VerifyOptions = { algorithms: ['HS256'], currentDate: NOW_DATE };
const HEADER = { alg: 'HS256', typ: 'JWT' };
const run = (payload: unknown, options: Partial<VerifyOptions> = {}, header: unknown = HEADER) =>
  verify(forge(header, payload), SECRET_KEY, { ...BASE, ...options });

describe('exp', () => {
  it('one second before exp verifies', () => expect(run(claims({ exp: NOW + 1 })).payload.exp).toBe(NOW + 1));
  it('exactly at exp → ERR_JWT_EXPIRED', () =>
    expectJoseError(() => run(claims({ exp: NOW })), 'ERR_JWT_EXPIRED', { claim: 'exp' }));
  it('after exp → ERR_JWT_EXPIRED', () =>
    expectJoseError(() => run(claims({ exp: NOW - 1 })), 'ERR_JWT_EXPIRED'));
  it('within clockTolerance verifies; at the edge of the tolerance it is expired', () => {
    expect(run(claims({ exp: NOW - 9 }), { clockTolerance: 10 }).payload.sub).toBe('user-1');
    expect(run(claims({ exp: NOW - 9 }), { clockTolerance: '10s' }).payload.sub).toBe('user-1');
    expectJoseError(() => run(claims({ exp: NOW - 10 }), { clockTolerance: 10 }), 'ERR_JWT_EXPIRED');
  });
  it('fractional seconds of the clock do not extend a token', () => {
    const verifier = createVerifier(SECRET_KEY, { algorithms: ['HS256'] });
    expectJoseError(
      () => verifier(forge(HEADER, claims({ exp: NOW })), { currentDate: new Date(NOW * 1000 + 999) }),
      'ERR_JWT_EXPIRED',
    );
  });
  it('a missing exp → ERR_JWT_CLAIM_INVALID (missing); allowed only with requireExp: false', () => {
    const noExp = { sub: 'user-1', iat: NOW };
    expectJoseError(() => run(noExp), 'ERR_JWT_CLAIM_INVALID', { claim: 'exp', reason: 'missing' });
    expect(run(noExp, { requireExp: false }).payload.sub).toBe('user-1');
  });
  it('the per-call clock overrides the configured one', () => {
    const verifier = createVerifier(SECRET_KEY, BASE);
    const token = forge(HEADER, claims());
    expect(verifier(token).payload.sub).toBe('user-1');
    expectJoseError(() => verifier(token, { currentDate: new Date((NOW + 600) * 1000) }), 'ERR_JWT_EXPIRED');
  });
});

describe('nbf and iat', () => {
  it('nbf in the future → ERR_JWT_NOT_YET_VALID; now or within tolerance verifies', () => {
    expectJoseError(() => run(claims({ nbf: NOW + 1 })), 'ERR_JWT_NOT_YET_VALID', { claim: 'nbf' });
    expect(run(claims({ nbf: NOW })).payload.nbf).toBe(NOW);
    expect(run(claims({ nbf: NOW + 5 }), { clockTolerance: 5 }).payload.nbf).toBe(NOW + 5);
    expectJoseError(() => run(claims({ nbf: NOW + 6 }), { clockTolerance: 5 }), 'ERR_JWT_NOT_YET_VALID');
  });
  it('iat in the future → ERR_JWT_CLAIM_INVALID (iat, future); within tolerance verifies', () => {
    expectJoseError(() => run(claims({ iat: NOW + 1 })), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iat',
      reason: 'future',
    });
    expect(run(claims({ iat: NOW + 30 }), { clockTolerance: '1m' }).payload.iat).toBe(NOW + 30);
  });
  it('maxTokenAge: older than allowed → ERR_JWT_EXPIRED (iat, too_old); at the limit verifies', () => {
    expectJoseError(() => run(claims({ iat: NOW - 601 }), { maxTokenAge: '10m' }), 'ERR_JWT_EXPIRED', {
      claim: 'iat',
      reason: 'too_old',
    });
    expect(run(claims({ iat: NOW - 600 }), { maxTokenAge: '10m' }).payload.sub).toBe('user-1');
    expect(run(claims({ iat: NOW - 605 }), { maxTokenAge: 600, clockTolerance: 5 }).payload.sub).toBe(
      'user-1',
    );
  });
  it('maxTokenAge makes iat required', () => {
    expectJoseError(() => run({ sub: 'u', exp: NOW + 60 }, { maxTokenAge: 600 }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iat',
      reason: 'missing',
    });
  });
});

describe('NumericDates are finite numbers', () => {
  const bad: [string, string][] = [
    ['the string "9999999999"', '"9999999999"'],
    ['1e400 (Infinity once parsed)', '1e400'],
    ['-1e400', '-1e400'],
    ['null', 'null'],
    ['true', 'true'],
    ['an array', '[9999999999]'],
    ['an object', '{"valueOf":9999999999}'],
  ];
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    for (const [name, json] of bad) {
      it(`${claim} as ${name} → ERR_JWT_CLAIM_INVALID (${claim}, type)`, () => {
        const payload = { sub: 'u', exp: NOW + 60, iat: NOW };
        const text = JSON.stringify(payload)
          .replace(/}$/, '')
          .replace(new RegExp(`,?"${claim}":\\d+`), '');
        expectJoseError(() => run(`${text},"${claim}":${json}}`), 'ERR_JWT_CLAIM_INVALID', {
          claim,
          reason: 'type',
        });
      });
    }
  }
  it('the signer refuses non-numeric dates too (TypeError: a bug in the caller)', () => {
    expect(() => sign({ exp: '9999999999' as unknown as number }, SECRET_KEY)).toThrow(TypeError);
    expect(() => sign({ exp: Infinity }, SECRET_KEY)).toThrow(TypeError);
  });
});

describe('iss', () => {
  const issuer = 'https://auth.example.com';
  it('the exact issuer verifies; one of a list verifies', () => {
    expect(run(claims({ iss: issuer }), { issuer }).payload.iss).toBe(issuer);
    expect(run(claims({ iss: issuer }), { issuer: ['https://other', issuer] }).payload.iss).toBe(issuer);
  });
  for (const wrong of [
    'https://auth.example.com/',
    'https://AUTH.example.com',
    'https://auth.example.com.evil.net',
    'https://auth.example',
    '',
  ]) {
    it(`iss ${JSON.stringify(wrong)} → ERR_JWT_CLAIM_INVALID (mismatch)`, () =>
      expectJoseError(() => run(claims({ iss: wrong }), { issuer }), 'ERR_JWT_CLAIM_INVALID', {
        claim: 'iss',
        reason: 'mismatch',
      }));
  }
  it('iss as an array holding the right issuer → ERR_JWT_CLAIM_INVALID (type) (fast-jwt CVE-2025-30144)', () => {
    expectJoseError(() => run(claims({ iss: [issuer] }), { issuer }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iss',
      reason: 'type',
    });
    expectJoseError(() => run(claims({ iss: [issuer] })), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iss',
      reason: 'type',
    });
  });
  it('missing iss → ERR_JWT_CLAIM_INVALID (missing)', () =>
    expectJoseError(() => run(claims(), { issuer }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iss',
      reason: 'missing',
    }));
});

describe('aud', () => {
  const audience = 'https://api.example.com';
  it('a string aud or an array containing the audience verifies', () => {
    expect(run(claims({ aud: audience }), { audience }).payload.aud).toBe(audience);
    expect(run(claims({ aud: ['https://x', audience] }), { audience }).payload.aud).toEqual([
      'https://x',
      audience,
    ]);
    expect(run(claims({ aud: 'https://b' }), { audience: ['https://a', 'https://b'] }).payload.aud).toBe(
      'https://b',
    );
  });
  for (const wrong of [
    'https://api.example.com.evil.net',
    'https://api.example.com/',
    'https://api.example.co',
    'https://api.example.com ',
    ' https://api.example.com',
    'HTTPS://API.EXAMPLE.COM',
    'evil-https://api.example.com',
    'https://api.example.com\u0000',
  ]) {
    it(`aud ${JSON.stringify(wrong)} → ERR_JWT_CLAIM_INVALID (mismatch), also inside an array`, () => {
      expectJoseError(() => run(claims({ aud: wrong }), { audience }), 'ERR_JWT_CLAIM_INVALID', {
        claim: 'aud',
        reason: 'mismatch',
      });
      expectJoseError(() => run(claims({ aud: [wrong] }), { audience }), 'ERR_JWT_CLAIM_INVALID', {
        claim: 'aud',
        reason: 'mismatch',
      });
    });
  }
  for (const [name, aud] of [
    ['[1]', [1]],
    ['[null]', [null]],
    ['[{}]', [{}]],
    ['a nested array', [[audience]]],
    ['a string next to a number', [audience, 1]],
    ['an object', { 0: audience }],
    ['a number', 42],
    ['null', null],
  ] as const) {
    it(`aud ${name} → ERR_JWT_CLAIM_INVALID (type), with or without an audience rule`, () => {
      expectJoseError(() => run(claims({ aud }), { audience }), 'ERR_JWT_CLAIM_INVALID', {
        claim: 'aud',
        reason: 'type',
      });
      expectJoseError(() => run(claims({ aud })), 'ERR_JWT_CLAIM_INVALID', { claim: 'aud', reason: 'type' });
    });
  }
  it('missing aud or an empty array → ERR_JWT_CLAIM_INVALID', () => {
    expectJoseError(() => run(claims(), { audience }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'aud',
      reason: 'missing',
    });
    expectJoseError(() => run(claims({ aud: [] }), { audience }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'aud',
      reason: 'mismatch',
    });
  });
});

describe('sub, jti and requiredClaims', () => {
  it('subject must match exactly and be a string', () => {
    expect(run(claims(), { subject: 'user-1' }).payload.sub).toBe('user-1');
    expectJoseError(() => run(claims(), { subject: 'user-10' }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'sub',
      reason: 'mismatch',
    });
    expectJoseError(() => run(claims({ sub: 1 })), 'ERR_JWT_CLAIM_INVALID', { claim: 'sub', reason: 'type' });
  });
  it('jti must be a string', () =>
    expectJoseError(() => run(claims({ jti: 7 })), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'jti',
      reason: 'type',
    }));
  it('requiredClaims must be present as own members', () => {
    expect(run(claims({ jti: 'j' }), { requiredClaims: ['jti'] }).payload.jti).toBe('j');
    expectJoseError(() => run(claims(), { requiredClaims: ['jti'] }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'jti',
      reason: 'missing',
    });
    expectJoseError(() => run(claims(), { requiredClaims: ['toString'] }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'toString',
    });
    const inherited = `${JSON.stringify(claims()).slice(0, -1)},"__proto__":{"jti":"j","exp":1}}`;
    expectJoseError(() => run(inherited, { requiredClaims: ['jti'] }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'jti',
      reason: 'missing',
    });
  });
});

describe('typ', () => {
  const header = (typ?: unknown) => (typ === undefined ? { alg: 'HS256' } : { alg: 'HS256', typ });
  it('at+jwt, AT+JWT and application/at+jwt are accepted for typ: "at+jwt"', () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT']) {
      expect(run(claims(), { typ: 'at+jwt' }, header(typ)).header.typ).toBe(typ);
    }
  });
  for (const typ of [
    'JWT',
    'jwt',
    'application/jwt',
    'at+jwt ',
    'dpop+jwt',
    'at+jwt+x',
    'application/at+jwt/x',
  ]) {
    it(`typ ${JSON.stringify(typ)} where at+jwt is required → ERR_JWT_CLAIM_INVALID (typ, mismatch)`, () =>
      expectJoseError(() => run(claims(), { typ: 'at+jwt' }, header(typ)), 'ERR_JWT_CLAIM_INVALID', {
        claim: 'typ',
        reason: 'mismatch',
      }));
  }
  it('a missing typ where one is required → ERR_JWT_CLAIM_INVALID (typ, missing)', () =>
    expectJoseError(() => run(claims(), { typ: 'at+jwt' }, header()), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'typ',
      reason: 'missing',
    }));
  it('a token Jot signs with typ at+jwt verifies only where at+jwt is expected', () => {
    const token = sign({ sub: 'u' }, SECRET_KEY, { typ: 'at+jwt', expiresIn: 60, currentDate: NOW_DATE });
    expect(verify(token, SECRET_KEY, { ...BASE, typ: 'at+jwt' }).header.typ).toBe('at+jwt');
    expectJoseError(() => verify(token, SECRET_KEY, { ...BASE, typ: 'dpop+jwt' }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'typ',
    });
  });
});

describe('__proto__ claims stay plain own properties', () => {
  const text = `${JSON.stringify(claims()).slice(0, -1)},"__proto__":{"admin":true,"sub":"admin"},"constructor":{"prototype":{"polluted":1}}}`;

  it('verifying does not change any prototype, and the claim stays an own member', () => {
    const { payload } = run(text);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect((payload as Record<string, unknown>).admin).toBeUndefined();
    expect(payload.sub).toBe('user-1');
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an inherited exp does not satisfy the exp requirement', () => {
    expectJoseError(() => run(`{"sub":"u","__proto__":{"exp":99999999999}}`), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'exp',
      reason: 'missing',
    });
  });

  it('signing copies a __proto__ claim as a claim, and it round-trips', () => {
    const input = JSON.parse('{"sub":"u","__proto__":{"admin":true}}') as Record<string, unknown>;
    const token = sign(input, SECRET_KEY, { expiresIn: 60, currentDate: NOW_DATE });
    const { payload } = verify(token, SECRET_KEY, BASE);
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect((payload as Record<string, unknown>).admin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value).toEqual({ admin: true });
  });
});

// A verifier with exactly one accepted issuer or audience compares strings directly instead of looking them up in a
// set: both forms must accept and refuse exactly the same values.
describe('one accepted issuer or audience, or several', () => {
  const ISSUER = 'https://auth.example.com';
  const AUDIENCE = 'https://api.example.com';
  it('one accepted issuer and several are compared alike: exact match only, a different string never verifies', () => {
    const near = [`${ISSUER}/`, ISSUER.slice(0, -1), ISSUER.toUpperCase(), `${ISSUER}\u0000`];
    for (const accepted of [ISSUER, [ISSUER], [ISSUER, 'https://other']]) {
      expect(run(claims({ iss: ISSUER }), { issuer: accepted }).payload.iss).toBe(ISSUER);
      for (const wrong of near) {
        expectJoseError(() => run(claims({ iss: wrong }), { issuer: accepted }), 'ERR_JWT_CLAIM_INVALID', {
          claim: 'iss',
          reason: 'mismatch',
        });
      }
    }
  });
  it('one accepted audience and several are compared alike, for a string aud and inside an array', () => {
    const near = [`${AUDIENCE}/`, AUDIENCE.slice(0, -1), AUDIENCE.toUpperCase()];
    for (const accepted of [AUDIENCE, [AUDIENCE], ['https://x', AUDIENCE]]) {
      expect(run(claims({ aud: AUDIENCE }), { audience: accepted }).payload.aud).toBe(AUDIENCE);
      expect(run(claims({ aud: [...near, AUDIENCE] }), { audience: accepted }).payload.aud).toHaveLength(4);
      for (const wrong of [...near, near]) {
        expectJoseError(() => run(claims({ aud: wrong }), { audience: accepted }), 'ERR_JWT_CLAIM_INVALID', {
          claim: 'aud',
          reason: 'mismatch',
        });
      }
    }
  });
});

/**
 * Misuse is a `TypeError` thrown once, when the verifier or signer is built — never an "invalid token" later, so a
 * configuration bug cannot be swallowed as a bad token.
 */
import { describe, expect, it } from 'vitest';

import {
  createJWSVerifier,
  createSigner,
  createVerifier,
  generateKeyPair,
  signEncoded,
  verify,
  type VerifyOptions,
} from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { SECRET_KEY, b64json, claims, forge } from './support/tokens.js';

const misuse = (options: unknown) => () => createVerifier(SECRET_KEY, options as VerifyOptions);

describe('createVerifier / createJWSVerifier misuse → TypeError at construction', () => {
  for (const [name, options] of [
    ['no options', undefined],
    ['null options', null],
    ['no algorithms', {}],
    ['empty algorithms', { algorithms: [] }],
    ['algorithms ["none"]', { algorithms: ['none'] }],
    ['algorithms ["NONE"]', { algorithms: ['NONE'] }],
    ['algorithms with none among others', { algorithms: ['HS256', 'none'] }],
    ['algorithms as a string', { algorithms: 'HS256' }],
    ['an unknown algorithm', { algorithms: ['HS1024'] }],
    ['a lower-case algorithm', { algorithms: ['hs256'] }],
    ['a non-string algorithm', { algorithms: [256] }],
    ['an empty issuer', { algorithms: ['HS256'], issuer: '' }],
    ['an empty issuer list', { algorithms: ['HS256'], issuer: [] }],
    ['a non-string audience', { algorithms: ['HS256'], audience: [1] }],
    ['a non-string subject', { algorithms: ['HS256'], subject: 1 }],
    ['an empty typ', { algorithms: ['HS256'], typ: '' }],
    ['a negative clockTolerance', { algorithms: ['HS256'], clockTolerance: -1 }],
    ['a nonsense clockTolerance', { algorithms: ['HS256'], clockTolerance: 'a while' }],
    ['a nonsense maxTokenAge', { algorithms: ['HS256'], maxTokenAge: 'forever' }],
    ['a tiny maxTokenLength', { algorithms: ['HS256'], maxTokenLength: 0 }],
    ['a fractional maxTokenLength', { algorithms: ['HS256'], maxTokenLength: 100.5 }],
    ['requiredClaims as a string', { algorithms: ['HS256'], requiredClaims: 'jti' }],
    ['requiredClaims with a non-string', { algorithms: ['HS256'], requiredClaims: [1] }],
    ['an invalid currentDate', { algorithms: ['HS256'], currentDate: new Date('nonsense') }],
    ['a currentDate that is not a Date', { algorithms: ['HS256'], currentDate: 1_700_000_000 }],
  ] as const) {
    it(name, () => expect(misuse(options)).toThrow(TypeError));
  }

  it('createJWSVerifier has the same allow-list rules', () => {
    for (const options of [undefined, {}, { algorithms: [] }, { algorithms: ['none'] }]) {
      expect(() => createJWSVerifier(SECRET_KEY, options as never)).toThrow(TypeError);
    }
  });

  it('a missing key or key set is a TypeError', () => {
    expect(() => createVerifier(undefined as never, { algorithms: ['HS256'] })).toThrow(TypeError);
    expect(() => createVerifier({} as never, { algorithms: ['HS256'] })).toThrow(TypeError);
  });

  it('an invalid per-call currentDate is a TypeError, not a free pass through the time checks', () => {
    const verifier = createVerifier(SECRET_KEY, { algorithms: ['HS256'] });
    const expired = forge({ alg: 'HS256' }, claims({ exp: 1 }));
    expect(() => verifier(expired, { currentDate: new Date(NaN) })).toThrow(TypeError);
    expectJoseError(() => verifier(expired), 'ERR_JWT_EXPIRED');
  });

  it('a bad token through a valid verifier is a JoseError, not a TypeError', () => {
    expectJoseError(() => verify('x.y.z', SECRET_KEY, { algorithms: ['HS256'] }), 'ERR_JWS_INVALID');
  });
});

describe('signEncoded misuse → TypeError', () => {
  it('a header without alg, with an alg the key cannot use, or non-canonical segments', () => {
    const payload = b64json({ sub: 'u' });
    expect(() => signEncoded(b64json({ typ: 'JWT' }), payload, SECRET_KEY)).toThrow(TypeError);
    expect(() => signEncoded(b64json({ alg: 'none' }), payload, SECRET_KEY)).toThrow(TypeError);
    expect(() => signEncoded(b64json({ alg: 'RS256' }), payload, SECRET_KEY)).toThrow(TypeError);
    expect(() => signEncoded(`${b64json({ alg: 'HS256' })}=`, payload, SECRET_KEY)).toThrow(TypeError);
    expect(signEncoded(b64json({ alg: 'HS256' }), payload, SECRET_KEY).split('.')).toHaveLength(3);
  });
});

describe('createSigner misuse → TypeError', () => {
  const ec = generateKeyPair('ES256');
  it('signing with a public key, another family, or reserved header names', () => {
    expect(() => createSigner(ec.publicKey())).toThrow(TypeError);
    expect(() => createSigner(ec, { alg: 'HS256' })).toThrow(TypeError);
    expect(() => createSigner(ec, { alg: 'none' as never })).toThrow(TypeError);
    for (const name of ['alg', 'crit', 'b64', 'kid', 'typ']) {
      expect(() => createSigner(ec, { header: { [name]: 'x' } })).toThrow(TypeError);
    }
    expect(() => createSigner(ec, { expiresIn: 'soon' })).toThrow(TypeError);
    expect(() => createSigner(ec)(null as never)).toThrow(TypeError);
    expect(() => createSigner(ec)([] as never)).toThrow(TypeError);
  });
});

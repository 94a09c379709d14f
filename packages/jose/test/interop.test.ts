/**
 * Interop both ways with the three libraries people run next to Jot: tokens Jot signs verify in `jose`,
 * `jsonwebtoken` and `fast-jwt`; tokens they sign verify in Jot — for every algorithm each of them supports.
 */
import { createSigner as fastSigner, createVerifier as fastVerifier } from 'fast-jwt';
import { SignJWT, jwtVerify } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { describe, expect, it } from 'vitest';

import { sign, verify, type Algorithm } from '../src/index.js';
import { ALL_ALGS, fixture } from './support/keys.js';

type Lib = 'jose' | 'jsonwebtoken' | 'fast-jwt';

/** What each library implements: jsonwebtoken has no EdDSA. */
const SUPPORTS: Record<Lib, readonly Algorithm[]> = {
  jose: ALL_ALGS,
  jsonwebtoken: ALL_ALGS.filter((alg) => alg !== 'EdDSA'),
  'fast-jwt': ALL_ALGS,
};

const CLAIMS = { sub: 'user-1', scope: 'read write', n: 42 };

function verifyKeyFor(alg: Algorithm) {
  const f = fixture(alg);
  return { object: f.publicKeyObject, secret: f.secret, pem: f.publicPem };
}

async function verifyElsewhere(lib: Lib, alg: Algorithm, token: string): Promise<Record<string, unknown>> {
  const { object, secret, pem } = verifyKeyFor(alg);
  switch (lib) {
    case 'jose':
      return (await jwtVerify(token, object ?? secret!, { algorithms: [alg] })).payload;
    case 'jsonwebtoken':
      return jsonwebtoken.verify(token, pem ?? secret!, {
        algorithms: [alg as jsonwebtoken.Algorithm],
      }) as never;
    case 'fast-jwt':
      return fastVerifier({ key: pem ?? secret!, algorithms: [alg] as never })(token) as never;
  }
}

async function signElsewhere(lib: Lib, alg: Algorithm): Promise<string> {
  const f = fixture(alg);
  switch (lib) {
    case 'jose':
      return new SignJWT(CLAIMS)
        .setProtectedHeader({ alg, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(f.privateKeyObject ?? f.secret!);
    case 'jsonwebtoken':
      return jsonwebtoken.sign(CLAIMS, f.privatePem ?? f.secret!, {
        algorithm: alg as jsonwebtoken.Algorithm,
        expiresIn: '10m',
      });
    case 'fast-jwt':
      return fastSigner({ key: f.privatePem ?? f.secret!, algorithm: alg as never, expiresIn: 600_000 })(
        CLAIMS,
      );
  }
}

for (const lib of ['jose', 'jsonwebtoken', 'fast-jwt'] as const) {
  describe(`interop with ${lib}`, () => {
    for (const alg of SUPPORTS[lib]) {
      it(`a ${alg} token signed by Jot verifies in ${lib}`, async () => {
        const token = sign(CLAIMS, fixture(alg).signingKey, { alg, expiresIn: '10m', issuer: 'https://jot' });
        const payload = await verifyElsewhere(lib, alg, token);
        expect(payload).toMatchObject({ ...CLAIMS, iss: 'https://jot' });
      });

      it(`a ${alg} token signed by ${lib} verifies in Jot`, async () => {
        const token = await signElsewhere(lib, alg);
        const { payload, header } = verify(token, fixture(alg).verifyingKey, { algorithms: [alg] });
        expect(payload).toMatchObject(CLAIMS);
        expect(header.alg).toBe(alg);
      });
    }
  });
}

/**
 * The DPoP and JWE section of `npm run bench`: what sender-constrained and encrypted access tokens add per request
 * at a resource server, next to verifying a plain ES256 access token — a DPoP proof's verification (signature,
 * claims, ath), the whole per-request check with the in-memory replay store, and decrypting a nested JWT with each
 * key-management algorithm (before the inner JWS is verified as usual); plus the issuer's cost to encrypt and the
 * token sizes. Uses the built `@jot/jose` (the JWE layer is the `jose` package).
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';

import { measureGroup } from './harness.js';

export const SENDER_HEADING = '## DPoP and encrypted tokens (cost per request)';

const us = (hz) => (1e6 / hz).toFixed(1);

/** Runs the measurements; `jose` is the built @jot/jose module. */
export async function benchSenderConstraint(jose, profile, log) {
  log('dpop-jwe: preparing keys and tokens');
  const signer = jose.generateKeyPair('ES256', { kid: 'bench' });
  const publicKey = signer.publicKey();
  const token = jose.sign(
    { sub: 'user-1', sid: 's', ver: 1, jti: randomUUID(), aud: 'https://api.bench' },
    signer,
    {
      typ: 'at+jwt',
      expiresIn: '15m',
      issuer: 'https://auth.bench',
    },
  );
  const verifyToken = jose.createVerifier(publicKey, { algorithms: ['ES256'], typ: 'at+jwt' });
  const clientKey = jose.generateKeyPair('ES256');
  const url = 'https://api.bench/orders';
  const proof = jose.createDPoPProof(clientKey, { htm: 'GET', htu: url, accessToken: token });
  const checker = jose.createDPoPChecker({ replay: jose.memoryReplayStore({ maxEntries: 1_000_000 }) });

  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ecKey = jose.importEncryptionKey({ ...ec, alg: 'ECDH-ES+A256KW' });
  const rsaKey = jose.importEncryptionKey({ ...rsa, alg: 'RSA-OAEP-256' });
  const ecPublic = jose.importEncryptionKey(ecKey.publicJwk);
  const rsaPublic = jose.importEncryptionKey(rsaKey.publicJwk);
  const jweEc = await jose.encryptJWT(token, ecPublic, { typ: 'at+jwt' });
  const jweRsa = await jose.encryptJWT(token, rsaPublic, { typ: 'at+jwt' });

  log('dpop-jwe: measuring');
  const results = await measureGroup(
    [
      { name: 'verify ES256 access token', fn: () => verifyToken(token) },
      {
        name: 'DPoP proof: verifyDPoPProof (ES256, ath)',
        fn: () => jose.verifyDPoPProof(proof, { method: 'GET', url, accessToken: token, maxAge: 1e9 }),
      },
      {
        name: 'DPoP per request: createDPoPChecker().check (fresh proof, memory replay)',
        // Each call needs a fresh proof (the replay check refuses a second use): it is made here, and the
        // client-signing row below is subtracted in the report.
        fn: () =>
          checker.check({
            method: 'GET',
            url,
            proof: jose.createDPoPProof(clientKey, { htm: 'GET', htu: url, accessToken: token }),
            accessToken: token,
            boundJkt: clientKey.thumbprint(),
          }),
        async: true,
      },
      {
        name: 'client: createDPoPProof (ES256)',
        fn: () => jose.createDPoPProof(clientKey, { htm: 'GET', htu: url, accessToken: token }),
      },
      { name: 'decrypt ECDH-ES+A256KW / A256GCM', fn: () => jose.decryptJWT(jweEc, [ecKey]), async: true },
      { name: 'decrypt RSA-OAEP-256 / A256GCM', fn: () => jose.decryptJWT(jweRsa, [rsaKey]), async: true },
      { name: 'issuer: encrypt ECDH-ES+A256KW', fn: () => jose.encryptJWT(token, ecPublic), async: true },
      { name: 'issuer: encrypt RSA-OAEP-256', fn: () => jose.encryptJWT(token, rsaPublic), async: true },
    ],
    profile,
  );
  return {
    results,
    sizes: { jws: token.length, jweEc: jweEc.length, jweRsa: jweRsa.length, proof: proof.length },
  };
}

/** The Markdown section. */
export function renderSenderConstraint({ results, sizes }) {
  const base = results.get('verify ES256 access token').hz;
  const rows = [...results].map(
    ([name, r]) =>
      `| ${name} | ${Math.round(r.hz).toLocaleString('en-US')} | ${us(r.hz)} | ${(base / r.hz).toFixed(1)}× |`,
  );
  const check = results.get('DPoP per request: createDPoPChecker().check (fresh proof, memory replay)').hz;
  const sign = results.get('client: createDPoPProof (ES256)').hz;
  const netCheck = 1e6 / check - 1e6 / sign;
  return `${SENDER_HEADING}

One core, \`@jot/jose\` in-process (no HTTP). "× plain" is how many plain ES256 verifications fit in the time of
one operation. The per-request DPoP row includes making the proof (the client's work); without it the server's
check costs about **${netCheck.toFixed(0)} µs** per request (proof signature, claims, \`ath\`, the replay entry).

| operation | ops/s | µs/op | × plain |
| --- | ---: | ---: | ---: |
${rows.join('\n')}

Sizes: a signed access token ${sizes.jws} bytes; encrypted with ECDH-ES+A256KW ${sizes.jweEc} bytes, with
RSA-OAEP-256 ${sizes.jweRsa} bytes; a DPoP proof header ${sizes.proof} bytes.
`;
}

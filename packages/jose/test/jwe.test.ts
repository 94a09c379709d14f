/**
 * Nested JWTs (sign, then encrypt): round trips with each accepted algorithm, decryption by the `jose` package
 * (interop), the RFC 7520 cookbook vectors, and every known JWE attack refused before decryption.
 */
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { CompactEncrypt, compactDecrypt, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';

import {
  checkCompactJWE,
  decryptJWT,
  encryptJWT,
  generateKeyPair,
  importEncryptionKey,
  isJoseError,
  sign,
  signJWS,
  verify,
  type EncryptionKey,
  type JWEKeyAlgorithm,
} from '../src/index.js';
import { keyPair as freshKeyPair } from '../../../test-support/key-pair.js';

const vector = (name: string): any =>
  JSON.parse(readFileSync(new URL(`./vectors/rfc7520/${name}.json`, import.meta.url), 'utf8'));

function keyPair(alg: JWEKeyAlgorithm, curve = 'P-256'): { priv: EncryptionKey; pub: EncryptionKey } {
  const { privateKey } =
    alg === 'RSA-OAEP-256'
      ? freshKeyPair({ type: 'rsa', modulusLength: 2048 })
      : freshKeyPair({ type: 'ec', namedCurve: curve });
  const jwk = privateKey.export({ format: 'jwk' });
  const priv = importEncryptionKey({ ...jwk, alg, kid: 'svc-1' });
  return { priv, pub: importEncryptionKey(priv.publicJwk) };
}

const signer = generateKeyPair('ES256', { kid: 'sig-1' });
const inner = sign({ sub: 'user-1', secret: 'hidden' }, signer, { typ: 'at+jwt', expiresIn: '5m' });

function code(err: unknown): string {
  if (isJoseError(err)) return `${err.code}:${err.reason ?? ''}`;
  throw err;
}

async function refusal(jwe: string, keys: EncryptionKey[]): Promise<string> {
  return decryptJWT(jwe, keys).then(
    () => 'accepted',
    (err: unknown) => code(err),
  );
}

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Replaces the protected header of a compact JWE (the tag no longer matches, but the checks come first). */
function withHeader(jwe: string, patch: Record<string, unknown>, drop: string[] = []): string {
  const [h, ...rest] = jwe.split('.');
  const header = { ...JSON.parse(Buffer.from(h!, 'base64url').toString()), ...patch };
  for (const name of drop) delete header[name];
  return [b64(header), ...rest].join('.');
}

describe.each(['RSA-OAEP-256', 'ECDH-ES+A256KW'] as const)('nested JWT with %s + A256GCM', (alg) => {
  const { priv, pub } = keyPair(alg);

  it('round trips: the payload is hidden, the inner JWS verifies', async () => {
    const jwe = await encryptJWT(inner, pub, { typ: 'at+jwt' });
    expect(jwe.split('.')).toHaveLength(5);
    expect(jwe).not.toContain(inner.split('.')[1]);
    const header = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString());
    const { epk, ...rest } = header;
    expect(rest).toEqual({ alg, enc: 'A256GCM', cty: 'JWT', kid: 'svc-1', typ: 'at+jwt' });
    expect(epk === undefined).toBe(alg === 'RSA-OAEP-256');
    const jws = await decryptJWT(jwe, [priv]);
    expect(verify(jws, signer, { algorithms: ['ES256'], typ: 'at+jwt' }).payload.secret).toBe('hidden');
  });

  it('decrypts in the jose package (interop)', async () => {
    const jwe = await encryptJWT(inner, pub);
    const { plaintext, protectedHeader } = await compactDecrypt(jwe, priv.keyObject);
    expect(new TextDecoder().decode(plaintext)).toBe(inner);
    expect(protectedHeader.cty).toBe('JWT');
  });

  it('decrypts what the jose package encrypted', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg, enc: 'A256GCM', cty: 'JWT' })
      .encrypt(createPublicKey(priv.keyObject));
    expect(await decryptJWT(jwe, [priv])).toBe(inner);
  });

  it('refuses a tampered ciphertext or the wrong key with one answer', async () => {
    const jwe = await encryptJWT(inner, pub);
    const parts = jwe.split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0]! ^= 1;
    parts[3] = ct.toString('base64url');
    expect(await refusal(parts.join('.'), [priv])).toBe('ERR_JWE_DECRYPTION_FAILED:decrypt');
    const other = keyPair(alg).priv;
    expect(await refusal(jwe, [other])).toBe('ERR_JWE_DECRYPTION_FAILED:decrypt');
  });
});

describe('JWE attacks are refused before decryption', () => {
  const ec = keyPair('ECDH-ES+A256KW');
  const rsa = keyPair('RSA-OAEP-256');

  it('refuses RSA1_5 and PBES2 whatever the key, and a p2c parameter', async () => {
    const jwe = await encryptJWT(inner, rsa.pub);
    expect(await refusal(withHeader(jwe, { alg: 'RSA1_5' }), [rsa.priv])).toBe('ERR_JWE_INVALID:alg');
    expect(
      await refusal(withHeader(jwe, { alg: 'PBES2-HS256+A128KW', p2c: 1e9, p2s: 'AAAA' }), [rsa.priv]),
    ).toBe('ERR_JWE_INVALID:alg');
    expect(await refusal(withHeader(jwe, { p2c: 1e9 }), [rsa.priv])).toBe('ERR_JWE_INVALID:p2c');
  });

  it('refuses zip, crit, another enc, dir, and a missing cty (no nested JWT)', async () => {
    const jwe = await encryptJWT(inner, rsa.pub);
    expect(await refusal(withHeader(jwe, { zip: 'DEF' }), [rsa.priv])).toBe('ERR_JWE_INVALID:zip');
    expect(await refusal(withHeader(jwe, { crit: ['exp'], exp: 1 }), [rsa.priv])).toBe(
      'ERR_JWE_INVALID:crit',
    );
    expect(await refusal(withHeader(jwe, { enc: 'A128CBC-HS256' }), [rsa.priv])).toBe('ERR_JWE_INVALID:enc');
    expect(await refusal(withHeader(jwe, { alg: 'dir' }), [rsa.priv])).toBe('ERR_JWE_INVALID:alg');
    expect(await refusal(withHeader(jwe, {}, ['cty']), [rsa.priv])).toBe('ERR_JWE_INVALID:cty');
  });

  it('refuses an epk that is not on the curve, on another curve, or private (invalid-curve attack)', async () => {
    const jwe = await encryptJWT(inner, ec.pub);
    const epk = JSON.parse(Buffer.from(jwe.split('.')[0]!, 'base64url').toString()).epk;
    const y = Buffer.from(epk.y, 'base64url');
    y[y.length - 1]! ^= 1;
    expect(await refusal(withHeader(jwe, { epk: { ...epk, y: y.toString('base64url') } }), [ec.priv])).toBe(
      'ERR_JWE_INVALID:epk',
    );
    const p384 = await exportJWK(freshKeyPair({ type: 'ec', namedCurve: 'P-384' }).publicKey);
    expect(await refusal(withHeader(jwe, { epk: p384 }), [ec.priv])).toBe('ERR_JWE_INVALID:epk');
    expect(await refusal(withHeader(jwe, { epk: { ...epk, d: 'AAAA' } }), [ec.priv])).toBe(
      'ERR_JWE_INVALID:epk',
    );
    expect(await refusal(withHeader(jwe, {}, ['epk']), [ec.priv])).toBe('ERR_JWE_INVALID:epk');
  });

  it('refuses oversized tokens before decoding, and bad iv, tag and key lengths', async () => {
    const jwe = await encryptJWT(inner, ec.pub);
    await expect(decryptJWT(jwe, [ec.priv], { maxLength: 100 })).rejects.toMatchObject({
      code: 'ERR_JWE_TOO_LARGE',
    });
    const parts = jwe.split('.');
    const swap = (i: number, value: string): string => parts.map((p, j) => (j === i ? value : p)).join('.');
    expect(await refusal(swap(2, 'AAAA'), [ec.priv])).toBe('ERR_JWE_INVALID:iv');
    expect(await refusal(swap(4, 'AAAA'), [ec.priv])).toBe('ERR_JWE_INVALID:tag');
    expect(await refusal(swap(1, 'AAAA'), [ec.priv])).toBe('ERR_JWE_INVALID:encrypted_key');
    expect(await refusal(parts.slice(0, 4).join('.'), [ec.priv])).toBe('ERR_JWE_INVALID:malformed');
  });

  it('requires the inner JWS to carry a typ', async () => {
    const untyped = signJWS(JSON.stringify({ sub: 'user-1' }), signer);
    const jwe = await encryptJWT(untyped, ec.pub);
    expect(await refusal(jwe, [ec.priv])).toBe('ERR_JWE_INVALID:typ');
  });

  it('never takes RSA-OAEP (SHA-1) keys, RSA1_5, small RSA keys or signing keys for encryption', () => {
    const rsaJwk = vector('5_2.key_encryption_using_rsa-oaep_with_aes-gcm').input.key;
    expect(() => importEncryptionKey(rsaJwk)).toThrow(/RSA-OAEP-256/);
    expect(() => importEncryptionKey({ ...rsaJwk, alg: 'RSA1_5' })).toThrow(/RSA-OAEP-256/);
    const small = freshKeyPair({ type: 'rsa', modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    expect(() => importEncryptionKey({ ...small, alg: 'RSA-OAEP-256' })).toThrow(/2048/);
    expect(() => importEncryptionKey({ ...ec.pub.publicJwk, use: 'sig' })).toThrow(/enc/);
  });
});

describe('RFC 7520 cookbook vectors', () => {
  it('5.2 (RSA-OAEP, SHA-1) and 5.4 (ECDH-ES+A128KW, A128GCM) decrypt in jose but Jot refuses their algorithms', async () => {
    for (const name of [
      '5_2.key_encryption_using_rsa-oaep_with_aes-gcm',
      '5_4.key_agreement_with_key_wrapping_using_ecdh-es_and_aes-keywrap_with_aes-gcm',
    ]) {
      const v = vector(name);
      const { plaintext } = await compactDecrypt(v.output.compact, v.input.key);
      expect(new TextDecoder().decode(plaintext)).toBe(v.input.plaintext);
      const ours = importEncryptionKey(
        { ...v.input.key, alg: undefined },
        v.input.key.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW',
      );
      expect(() => checkCompactJWE(v.output.compact, [ours])).toThrow(
        expect.objectContaining({ code: 'ERR_JWE_INVALID' }),
      );
    }
  });

  it('6 (nested, RSA-OAEP + A128GCM): the inner JWS verifies in Jot; the outer layer is refused', async () => {
    const v = vector('6.nesting_signatures_and_encryption');
    const { plaintext } = await compactDecrypt(v.encrypt.output.compact, v.encrypt.input.key);
    const jws = new TextDecoder().decode(plaintext);
    expect(jws).toBe(v.sign.output.compact);
    const key = importEncryptionKey({ ...v.encrypt.input.key, alg: undefined }, 'RSA-OAEP-256');
    expect(() => checkCompactJWE(v.encrypt.output.compact, [key])).toThrow(
      expect.objectContaining({ reason: 'alg' }),
    );
    // The same key and the same inner JWS, re-encrypted with the accepted algorithms, round trip.
    expect(await decryptJWT(await encryptJWT(jws, importEncryptionKey(key.publicJwk)), [key])).toBe(jws);
  });
});

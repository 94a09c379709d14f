/** PEM import: SPKI / PKCS #8 (and the PKCS #1, SEC 1 and X.509 forms Node reads) into a bound `Key`. */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

import { JoseError } from '../errors.js';
import { Key, type KeyOptions } from './key.js';

/**
 * Imports a PEM public or private key. Encrypted PEMs are not accepted (decrypt first). An X.509 certificate yields
 * its public key.
 *
 * @example
 * const publicKey = importPEM(fs.readFileSync('public.pem', 'utf8'), { alg: 'RS256' });
 */
export function importPEM(pem: string, options: KeyOptions = {}): Key {
  if (typeof pem !== 'string' || !pem.includes('-----BEGIN ')) {
    throw new JoseError('ERR_KEY_INVALID', 'not a PEM: expected a "-----BEGIN …-----" block', {
      reason: 'pem',
    });
  }
  let keyObject: KeyObject;
  try {
    keyObject = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(pem)
      ? createPrivateKey({ key: pem, format: 'pem' })
      : createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new JoseError('ERR_KEY_INVALID', 'the PEM could not be read as a public or private key', {
      reason: 'pem',
    });
  }
  return new Key(keyObject, options);
}

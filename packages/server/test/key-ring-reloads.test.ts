/**
 * Reloads of the key ring may overlap (a refresh does not wait for a rotation under the key lock): a read that
 * started earlier but finished later must not put an older ring back over a newer one.
 */
import { randomBytes } from 'node:crypto';

import { generateKeyPair } from '@jot/jose';
import { expect, it } from 'vitest';

import { createKek } from '../src/keys/kek.js';
import { createKeyRing } from '../src/keys/key-ring.js';
import { sealSigningKey } from '../src/keys/sealed-key.js';
import type { SigningKeyRecord, Store } from '../src/store/index.js';

it('an older read that finishes last does not replace the newer ring', async () => {
  const kek = createKek(randomBytes(32));
  const record = {
    ...sealSigningKey(kek, generateKeyPair('ES256')),
    activatesAt: 0,
    createdAt: 0,
    retiredAt: null,
    expiresAt: null,
  } as SigningKeyRecord;
  const reads: Array<(rows: SigningKeyRecord[]) => void> = [];
  const store = {
    listSigningKeys: () => new Promise<SigningKeyRecord[]>((resolve) => reads.push(resolve)),
  } as unknown as Store;
  const ring = createKeyRing(store, kek);
  const older = ring.reload(); // started before the new key committed
  const newer = ring.reload(); // started after
  reads[1]?.([record]);
  await newer;
  reads[0]?.([]);
  await older;
  expect(ring.current().map((k) => k.kid)).toEqual([record.kid]);
});

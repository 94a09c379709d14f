/**
 * Random bytes for the secrets and ids the server makes on every request (refresh tokens, `jti`s, AES-GCM IVs),
 * drawn from a pool the CSPRNG fills 4 KiB at a time. `crypto.randomBytes` costs about 5 µs per call whatever the
 * size (each call is a crypto job of its own), three calls per refresh; `crypto.randomUUID` pools its entropy for
 * the same reason. Every byte is handed out once and zeroed in the pool as it goes, so nothing handed out stays
 * readable there. Synchronous use only; larger requests go straight to the CSPRNG.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
/** Requests above this size bypass the pool (they would drain it for one caller). */
const MAX_POOLED = 256;

// Its own memory (never a slice of Node's shared allocation pool), filled on first use.
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let offset = POOL_BYTES;

/** Runs `use` on the next `size` fresh bytes of the pool (a view: valid only during the call), then zeroes them. */
function draw<T>(size: number, use: (bytes: Buffer) => T): T {
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  try {
    return use(bytes);
  } finally {
    bytes.fill(0);
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError('random: size must be a positive integer');
}

/** `size` random bytes in a Buffer of their own. */
export function randomBytesPooled(size: number): Buffer {
  checkSize(size);
  if (size > MAX_POOLED) return randomBytes(size);
  return draw(size, (bytes) => Buffer.from(bytes));
}

/** `size` random bytes as unpadded base64url. */
export function randomBase64url(size: number): string {
  checkSize(size);
  if (size > MAX_POOLED) return randomBytes(size).toString('base64url');
  return draw(size, (bytes) => bytes.toString('base64url'));
}

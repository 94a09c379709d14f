/**
 * Random bytes for the secrets and ids the server makes on every request (refresh tokens, `jti`s, AES-GCM IVs),
 * drawn from a pool the CSPRNG fills 1 KiB at a time. `crypto.randomBytes` costs about 5 µs per call whatever the
 * size (each call is a crypto job of its own), three calls per refresh; `crypto.randomUUID` pools its entropy for
 * the same reason. Each byte is handed out once and zeroed in the pool as it goes, so the pool holds only bytes not
 * yet handed out (at most 1 KiB of future secrets in memory). Synchronous use only; larger requests go straight to
 * the CSPRNG.
 *
 * Like any in-process random state, the pool must not be cloned into two running processes: Node cannot fork one,
 * but a V8 startup snapshot or a VM snapshot taken after the first draw would hand the same bytes to every copy (for
 * a snapshot, reset the pool in `v8.startupSnapshot.addSerializeCallback`). Jot builds no snapshot.
 */
import { Buffer } from 'node:buffer';
import { randomBytes, randomFillSync } from 'node:crypto';

const POOL_BYTES = 1024;
/** Requests above this size bypass the pool (they would drain it for one caller). */
const MAX_POOLED = 256;

// Its own memory (never a slice of Node's shared allocation pool), filled on first use.
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let offset = POOL_BYTES;
let drawing = false;

/** Runs `use` on the next `size` fresh bytes of the pool (a view: valid only during the call), then zeroes them. */
function draw<T>(size: number, use: (bytes: Buffer) => T): T {
  // A draw from inside `use` could refill the pool under the outer caller's view; none does, and none may.
  if (drawing) throw new Error('random pool: a draw inside a draw');
  if (offset + size > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const bytes = pool.subarray(offset, offset + size);
  offset += size;
  drawing = true;
  try {
    return use(bytes);
  } finally {
    drawing = false;
    bytes.fill(0);
  }
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError('random: size must be a positive integer');
}

/** `size` random bytes in a Buffer over memory of its own. */
export function randomBytesPooled(size: number): Buffer {
  checkSize(size);
  if (size > MAX_POOLED) return randomBytes(size);
  return draw(size, (bytes) => {
    const own = Buffer.allocUnsafeSlow(size);
    bytes.copy(own);
    return own;
  });
}

/** `size` random bytes as unpadded base64url. */
export function randomBase64url(size: number): string {
  checkSize(size);
  if (size > MAX_POOLED) return randomBytes(size).toString('base64url');
  return draw(size, (bytes) => bytes.toString('base64url'));
}

/**
 * One reusable buffer for the synchronous verify path: the signature, the signing input and then the payload are
 * decoded into it instead of into a fresh Buffer each, which saves an allocation per segment and the buffer-pool
 * churn that goes with it. Only for work that finishes before the caller returns: whatever runs next (another
 * verifier, or the same one) overwrites it. Never handed to an asynchronous operation.
 */
import { Buffer } from 'node:buffer';

let buffer = Buffer.allocUnsafeSlow(8192);

/** A buffer of at least `bytes` bytes whose contents are valid until the next call. */
export function scratch(bytes: number): Buffer {
  if (buffer.length < bytes) buffer = Buffer.allocUnsafeSlow(Math.max(bytes, buffer.length * 2));
  return buffer;
}

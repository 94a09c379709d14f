/**
 * One reusable buffer for the synchronous verify path: the signature, the signing input and then the payload are
 * decoded into it instead of into a fresh Buffer each, which saves an allocation per segment and the buffer-pool
 * churn that goes with it. Only for work that finishes before the caller returns: whatever runs next (another
 * verifier, or the same one) overwrites it. Never handed to an asynchronous operation.
 */
import { Buffer } from 'node:buffer';

let buffer = Buffer.allocUnsafeSlow(8192);
// Views of the buffer's first n bytes, by n: a signature's length is fixed by its algorithm and key, so the view it
// is read through can be made once instead of on every token. Emptied when the buffer is replaced.
let heads = new Map<number, Buffer>();
const MAX_HEADS = 16;

/** A buffer of at least `bytes` bytes whose contents are valid until the next call. */
export function scratch(bytes: number): Buffer {
  if (buffer.length < bytes) {
    buffer = Buffer.allocUnsafeSlow(Math.max(bytes, buffer.length * 2));
    heads = new Map();
  }
  return buffer;
}

/** A view of the first `bytes` bytes of the buffer `scratch` last returned (call `scratch` first). */
export function scratchHead(bytes: number): Buffer {
  let view = heads.get(bytes);
  if (view === undefined) {
    if (heads.size >= MAX_HEADS) heads.clear();
    view = buffer.subarray(0, bytes);
    heads.set(bytes, view);
  }
  return view;
}

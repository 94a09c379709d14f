/**
 * Strict `application/x-www-form-urlencoded` decoding (the WHATWG URL standard's parser, RFC 6749 Appendix B's
 * encoding), for the bodies of the OAuth endpoints and `/api/introspect`: the body splits on `&` and each sequence on
 * its first `=`, `+` is a space, and `%XX` a byte — but where the standard's parser passes a malformed escape through
 * as text and replaces bytes that are not UTF-8 with U+FFFD, this one refuses both (400 `ERR_VALIDATION`). A silent
 * U+FFFD would make two different credentials one string (`%FF` and `%FE` the same secret, token or client id), and
 * a `%zz` kept as text is a client's encoding bug answered as if it were a value. A byte-order mark is a character
 * like any other (U+FEFF), never dropped.
 */
import { HttpError } from './errors.js';

/** UTF-8 that refuses what does not decode (overlong forms, surrogates, truncated sequences) instead of U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const AMPERSAND = 0x26;
const EQUALS = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;

/** The value of one hexadecimal digit's byte, or -1. */
function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** One name or value: `+` as a space, each `%XX` as its byte, the bytes as UTF-8. */
function decodeComponent(bytes: Uint8Array): string {
  const out = new Uint8Array(bytes.length);
  let length = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i] as number;
    if (byte === PLUS) out[length++] = 0x20;
    else if (byte === PERCENT) {
      const high = hexDigit(bytes[i + 1]);
      const low = hexDigit(bytes[i + 2]);
      if (high < 0 || low < 0) {
        throw new HttpError(
          400,
          'ERR_VALIDATION',
          'the form body has a malformed percent-escape: "%" must be followed by two hexadecimal digits ' +
            '(send a "%" itself as %25)',
        );
      }
      out[length++] = high * 16 + low;
      i += 2;
    } else out[length++] = byte;
  }
  try {
    return UTF8.decode(out.subarray(0, length));
  } catch {
    throw new HttpError(
      400,
      'ERR_VALIDATION',
      'the form body is not valid UTF-8: send each character as its UTF-8 bytes, percent-encoded (RFC 6749 ' +
        'Appendix B)',
    );
  }
}

/**
 * The body's name/value pairs in order (a sequence without `=` is a name with an empty value; empty sequences are
 * skipped), or a 400 `ERR_VALIDATION` for a malformed percent-escape or bytes that are not UTF-8. The separators are
 * ASCII, which no byte of a multi-byte UTF-8 sequence is, so splitting the bytes first splits no character.
 */
export function decodeForm(body: Uint8Array): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let start = 0; start < body.length;) {
    let end = body.indexOf(AMPERSAND, start);
    if (end === -1) end = body.length;
    if (end > start) {
      const sequence = body.subarray(start, end);
      const equals = sequence.indexOf(EQUALS);
      const name = equals === -1 ? sequence : sequence.subarray(0, equals);
      const value = equals === -1 ? sequence.subarray(sequence.length) : sequence.subarray(equals + 1);
      pairs.push([decodeComponent(name), decodeComponent(value)]);
    }
    start = end + 1;
  }
  return pairs;
}

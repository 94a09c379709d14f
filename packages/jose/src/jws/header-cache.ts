/**
 * Parsed protected headers, per verifier, keyed on the exact header segment text. A header is a pure function of
 * that text and of the verifier's allow-list, and the tokens of one issuer share a handful of headers, so decoding,
 * `JSON.parse` and the header checks run once per distinct header instead of once per token. Only headers that
 * passed every check are stored (a refused header is parsed and refused again each time), the key is still chosen
 * and bound to the algorithm on every token, and the size is bounded: a stream of distinct headers only empties it.
 */
import { parseHeader, type ParsedHeader } from './segments.js';

/** How many distinct headers one verifier remembers before it starts over. */
export const HEADER_CACHE_SIZE = 64;

/** A bounded map from header segment to its parsed, checked form. */
export class HeaderCache {
  readonly #allowed: ReadonlySet<string>;
  readonly #entries = new Map<string, ParsedHeader>();
  readonly #limit: number;
  // Most tokens repeat the previous one's header exactly: a string compare before the Map lookup.
  #lastSegment = '';
  #lastParsed: ParsedHeader | undefined;

  constructor(allowed: ReadonlySet<string>, limit: number = HEADER_CACHE_SIZE) {
    this.#allowed = allowed;
    this.#limit = limit;
  }

  /** How many headers are remembered now (never more than the limit). */
  get size(): number {
    return this.#entries.size;
  }

  /** The parsed header for `segment`; throws as `parseHeader` does when the header is refused. */
  get(segment: string): ParsedHeader {
    if (segment === this.#lastSegment && this.#lastParsed !== undefined) return this.#lastParsed;
    let parsed = this.#entries.get(segment);
    if (parsed === undefined) {
      parsed = parseHeader(segment, this.#allowed);
      if (this.#entries.size >= this.#limit) this.#entries.clear();
      this.#entries.set(segment, parsed);
    }
    this.#lastSegment = segment;
    this.#lastParsed = parsed;
    return parsed;
  }
}

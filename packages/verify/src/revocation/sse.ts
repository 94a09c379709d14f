/**
 * A Server-Sent Events parser (HTML Living Standard §9.2.6) small enough to own: `event`, `data`, `id` and
 * `retry` fields, comments, a leading BOM, and CR, LF or CRLF line ends even when split across chunks. Each push
 * scans only the new text, and what an event may hold before it is dispatched is bounded (`maxPending`): past it
 * the parser throws and the caller reconnects, rather than buffering a feed that never ends an event.
 */

/** One dispatched event. */
export interface SSEEvent {
  readonly event: string;
  readonly data: string;
  /** The last event id after this event (the resume cursor). */
  readonly id: string | undefined;
}

/** Default bound on an incomplete line plus the data of an undispatched event, in UTF-16 code units. */
const MAX_PENDING = 1 << 20;

/**
 * Incremental parser: feed it decoded text, get the complete events.
 *
 * @example
 * const parser = new SSEParser();
 * parser.push('event: revocation\nid: 7\ndata: {}\n\n'); // [{ event: 'revocation', data: '{}', id: '7' }]
 */
export class SSEParser {
  readonly #maxPending: number;
  /** The incomplete last line. */
  #buffer = '';
  #started = false;
  #skipLF = false;
  #data: string[] = [];
  #dataLength = 0;
  #event = '';
  #lastId: string | undefined;
  /** The last `retry:` value, in milliseconds. */
  retry: number | undefined;
  /** Comment lines seen (`: ping`): a feed's heartbeats. */
  comments = 0;

  /**
   * @param lastEventId The id to resume from (`Last-Event-ID`).
   * @param maxPending Largest incomplete line plus undispatched `data`; `push` throws past it. @default 1 MiB
   */
  constructor(lastEventId?: string, maxPending = MAX_PENDING) {
    this.#lastId = lastEventId;
    this.#maxPending = maxPending;
  }

  /** Parses a chunk of text; returns the events it completed. Throws when an event outgrows `maxPending`. */
  push(chunk: string): SSEEvent[] {
    const events: SSEEvent[] = [];
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    // A CR ended the previous chunk: a LF opening this one belongs to it (one CRLF, not two line ends).
    if (this.#skipLF && text.length > 0) {
      this.#skipLF = false;
      if (text.charCodeAt(0) === 10) start = 1;
    }
    for (let i = start; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const piece = text.slice(start, i);
      const line = this.#buffer === '' ? piece : this.#buffer + piece;
      this.#buffer = '';
      if (c === 13) {
        if (i + 1 === text.length) this.#skipLF = true;
        else if (text.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
      const event = this.#line(line);
      if (event !== undefined) events.push(event);
    }
    if (start < text.length) this.#buffer += text.slice(start);
    if (this.#buffer.length + this.#dataLength > this.#maxPending) {
      throw new Error(`SSE event larger than ${this.#maxPending} characters without being dispatched`);
    }
    return events;
  }

  #line(line: string): SSEEvent | undefined {
    if (line === '') {
      const data = this.#data;
      const event = this.#event || 'message';
      this.#data = [];
      this.#dataLength = 0;
      this.#event = '';
      if (data.length === 0) return undefined;
      return { event, data: data.join('\n'), id: this.#lastId };
    }
    if (line.startsWith(':')) {
      this.comments += 1;
      return undefined;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.#data.push(value);
      this.#dataLength += value.length + 1;
      if (this.#dataLength > this.#maxPending) {
        throw new Error(`SSE event larger than ${this.#maxPending} characters without being dispatched`);
      }
    } else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }

  /** The last event id seen (or given), for `Last-Event-ID` on reconnect. */
  get lastEventId(): string | undefined {
    return this.#lastId;
  }
}

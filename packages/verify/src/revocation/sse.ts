/**
 * A Server-Sent Events parser (HTML Living Standard §9.2.6) small enough to own: `event`, `data`, `id` and
 * `retry` fields, comments, and CR, LF or CRLF line ends even when split across chunks.
 */

/** One dispatched event. */
export interface SSEEvent {
  readonly event: string;
  readonly data: string;
  /** The last event id after this event (the resume cursor). */
  readonly id: string | undefined;
}

/**
 * Incremental parser: feed it decoded text, get the complete events.
 *
 * @example
 * const parser = new SSEParser();
 * parser.push('event: revocation\nid: 7\ndata: {}\n\n'); // [{ event: 'revocation', data: '{}', id: '7' }]
 */
export class SSEParser {
  #buffer = '';
  #skipLF = false;
  #data: string[] = [];
  #event = '';
  #lastId: string | undefined;
  /** The last `retry:` value, in milliseconds. */
  retry: number | undefined;

  constructor(lastEventId?: string) {
    this.#lastId = lastEventId;
  }

  push(text: string): SSEEvent[] {
    const events: SSEEvent[] = [];
    let buffer = this.#buffer + text;
    if (this.#skipLF && buffer.startsWith('\n')) buffer = buffer.slice(1);
    this.#skipLF = false;
    let start = 0;
    for (let i = 0; i < buffer.length; i += 1) {
      const c = buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 === buffer.length) this.#skipLF = true;
        else if (buffer.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
      const event = this.#line(line);
      if (event !== undefined) events.push(event);
    }
    this.#buffer = buffer.slice(start);
    if (this.#buffer.length > 1 << 20) throw new Error('SSE line longer than 1 MiB');
    return events;
  }

  #line(line: string): SSEEvent | undefined {
    if (line === '') {
      const data = this.#data;
      const event = this.#event || 'message';
      this.#data = [];
      this.#event = '';
      if (data.length === 0) return undefined;
      return { event, data: data.join('\n'), id: this.#lastId };
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value)) this.retry = Number(value);
    return undefined;
  }

  /** The last event id seen (or given), for `Last-Event-ID` on reconnect. */
  get lastEventId(): string | undefined {
    return this.#lastId;
  }
}

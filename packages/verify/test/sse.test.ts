/** The SSE parser: fields, comments, line ends split across chunks, the resume id, a BOM, and its memory bound. */
import { describe, expect, it } from 'vitest';

import { SSEParser } from '../src/revocation/sse.js';

describe('SSE parser', () => {
  it('parses the feed framing, including ids, comments and the reset event', () => {
    const parser = new SSEParser();
    const events = parser.push(
      'retry: 2000\n\n: ping\n\nevent: reset\ndata: {"cursor":"0"}\n\nevent: revocation\nid: 7\ndata: {"a":1}\n\n',
    );
    expect(events).toEqual([
      { event: 'reset', data: '{"cursor":"0"}', id: undefined },
      { event: 'revocation', data: '{"a":1}', id: '7' },
    ]);
    expect(parser.retry).toBe(2000);
    expect(parser.lastEventId).toBe('7');
  });

  it('handles CR, LF and CRLF line ends even when split across chunks, and multi-line data', () => {
    const parser = new SSEParser('3');
    const text = 'id: 4\r\ndata: a\r\ndata: b\r\r\ndata:c\n\n';
    const events = [...text].flatMap((ch) => parser.push(ch));
    expect(events).toEqual([
      { event: 'message', data: 'a\nb', id: '4' },
      { event: 'message', data: 'c', id: '4' },
    ]);
  });

  it('keeps a CRLF whole when the CR ends a chunk and empty chunks come before the LF', () => {
    const parser = new SSEParser();
    const events = [
      ...parser.push('data: a\r'),
      ...parser.push(''),
      ...parser.push('\ndata: b\r'),
      ...parser.push('\n\r\n'),
    ];
    expect(events).toEqual([{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('strips a byte order mark at the start of the stream only', () => {
    const parser = new SSEParser();
    expect(parser.push('\uFEFFdata: a\n\n')).toEqual([{ event: 'message', data: 'a', id: undefined }]);
    expect(parser.push('\uFEFFdata: b\n\n')).toEqual([]); // a BOM later is part of a field name
  });

  it('throws once data lines pile up past the bound without a blank line', () => {
    const parser = new SSEParser(undefined, 10_000);
    const line = `data: ${'x'.repeat(990)}\n`;
    expect(() => {
      for (let i = 0; i < 20; i += 1) parser.push(line);
    }).toThrow(/larger than 10000/);
    // The default bound is 1 MiB.
    const big = new SSEParser();
    expect(() => {
      for (let i = 0; i < 1100; i += 1) big.push(line);
    }).toThrow(/larger than 1048576/);
  });

  it('throws for an endless line, and scans each chunk once (no quadratic rescans)', () => {
    const parser = new SSEParser(undefined, 1000);
    expect(() => {
      for (let i = 0; i < 100; i += 1) parser.push('x'.repeat(50));
    }).toThrow(/larger than 1000/);
    // Counted, not timed: every character the parser examines is one charCodeAt call. A parser that rescanned the
    // pending line on each chunk would examine ~10^10 here (and the count would say so).
    const fast = new SSEParser();
    const chunks = Array.from({ length: 20_000 }, () => 'x'.repeat(50)); // a 1 MB line in 50-byte chunks
    const descriptor = Object.getOwnPropertyDescriptor(String.prototype, 'charCodeAt')!;
    const charCodeAt = descriptor.value as (this: string, index: number) => number;
    let examined = 0;
    String.prototype.charCodeAt = function (this: string, index: number): number {
      examined += 1;
      return charCodeAt.call(this, index);
    };
    let events: ReturnType<SSEParser['push']>;
    try {
      fast.push('data: ');
      for (const chunk of chunks) fast.push(chunk);
      events = fast.push('\n\n');
    } finally {
      Object.defineProperty(String.prototype, 'charCodeAt', descriptor);
    }
    expect(events[0]?.data.length).toBe(1_000_000);
    expect(examined).toBeGreaterThanOrEqual(1_000_000);
    expect(examined).toBeLessThan(1_000_000 + 3 * chunks.length);
  });
});

/** The SSE parser: fields, comments, line ends split across chunks, and the resume id. */
import { describe, expect, it } from 'vitest';

import { SSEParser } from '../src/index.js';

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
});

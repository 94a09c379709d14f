/** What an error says in the UI (lib/dom.ts `errorText`): words a person can act on, each said once. */
import { JotClientError } from '@jot/client';
import { describe, expect, it } from 'vitest';

import { ApiError } from '../src/lib/api.js';
import { errorText } from '../src/lib/dom.js';

describe('errorText', () => {
  it('makes the server’s phrases sentences', () => {
    expect(
      errorText(new JotClientError('ERR_INVALID_CREDENTIALS', 'the password is incorrect', { status: 403 })),
    ).toBe('The password is incorrect.');
    expect(
      errorText(new ApiError('this link was already used; ask for a new one', 'ERR_LINK_USED', 400)),
    ).toBe('This link was already used; ask for a new one.');
    expect(errorText(new ApiError('The server answered 502; try again in a moment.', '', 502))).toBe(
      'The server answered 502; try again in a moment.',
    );
  });

  it('says how long to wait once, whether or not the server’s message already does', () => {
    const said = (message: string, retryAfter: number): string =>
      errorText(new JotClientError('ERR_RATE_LIMITED', message, { status: 429, retryAfter }));
    expect(
      said(
        'too many sign-in attempts for this account (failed or still being checked); try again in 27 s',
        27,
      ),
    ).toBe('Too many sign-in attempts for this account (failed or still being checked); try again in 27 s.');
    expect(said('too many requests; slow down and try again later', 5)).toBe(
      'Too many requests; slow down and try again later. Try again in 5 s.',
    );
  });

  it('words of its own for no answer, an answer that is not Jot’s, and no session', () => {
    expect(errorText(new TypeError('Failed to fetch'))).toBe(
      'The server could not be reached. Check your connection and try again.',
    );
    expect(errorText(new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached'))).toBe(
      'The server could not be reached. Check your connection and try again.',
    );
    expect(errorText(new JotClientError('HTTP_502', 'the server answered 502', { status: 502 }))).toBe(
      'The server answered 502; try again in a moment.',
    );
    expect(errorText(new SyntaxError('Unexpected token < in JSON'))).toBe(
      'The server’s answer could not be read; try again in a moment.',
    );
    expect(
      errorText(new JotClientError('ERR_CLIENT_NO_SESSION', 'there is no session to act for; sign in first')),
    ).toBe('You are signed out. Sign in again to continue.');
  });
});

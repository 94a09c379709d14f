/**
 * The route the sign-in page sends the user back to (`#/signin?next=…`): only one of the UI's own routes that needs a
 * session, as a hash route — never another origin, a scheme, the sign-in page itself or a link's token.
 */
import { describe, expect, it } from 'vitest';

import { safeReturnPath } from '../src/lib/return-to.js';

const ROUTES = new Set(['/account', '/admin/users', '/admin/events']);

describe('safeReturnPath', () => {
  it('accepts a known route, with its query', () => {
    expect(safeReturnPath('/account', ROUTES)).toBe('/account');
    expect(safeReturnPath('/admin/users', ROUTES)).toBe('/admin/users');
    expect(safeReturnPath('/admin/events?user_id=abc', ROUTES)).toBe('/admin/events?user_id=abc');
  });

  it('refuses other origins, schemes and look-alikes', () => {
    for (const next of [
      'https://evil.example/',
      'http://evil.example/account',
      '//evil.example/account',
      '///evil.example',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      ' /account',
      '/account/',
      '/account#x',
      '/ACCOUNT',
      '/admin/users/../../evil',
      '%2Faccount',
      'account',
      '',
    ])
      expect({ next, path: safeReturnPath(next, ROUTES) }).toEqual({ next, path: undefined });
  });

  it('refuses routes it does not know: the sign-in page, link pages, nothing', () => {
    for (const next of ['/signin', '/', '/reset-password', '/nowhere', null, undefined])
      expect(safeReturnPath(next, ROUTES)).toBeUndefined();
  });

  it('drops a token (and a nested next) from the query', () => {
    expect(safeReturnPath('/admin/events?token=secret&user_id=u1', ROUTES)).toBe('/admin/events?user_id=u1');
    expect(safeReturnPath('/account?next=%2F%2Fevil.example', ROUTES)).toBe('/account');
    expect(safeReturnPath('/account?token=x', ROUTES)).toBe('/account');
  });

  it('refuses an absurdly long value', () => {
    expect(safeReturnPath(`/admin/events?user_id=${'a'.repeat(3000)}`, ROUTES)).toBeUndefined();
  });
});

/**
 * Token confinement: `client.fetch` resolves a target once and sends the access token (or the CSRF header) only
 * when that resolved URL — the one actually requested — is on the Jot server. Spellings that URL parsers read
 * differently (`https:evil.com`, `//evil.com`, `/\evil.com`, userinfo, `%2e%2e`) must never carry a credential
 * off the server.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { createClient, type DeliveryMode, type JotClient } from '../src/index.js';

interface Seen {
  url: string;
  authorization: string | null;
  csrf: string | null;
}

const clients: JotClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A client whose fetch records every request after sign-in and answers 200. */
async function recorder(baseUrl: string, mode: DeliveryMode): Promise<{ client: JotClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  const client = createClient({
    baseUrl,
    mode,
    locks: null,
    broadcast: false,
    fetch: (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname.endsWith('/api/login')) {
        const body =
          mode === 'cookie'
            ? { token_type: 'Bearer', expires_in: 600, csrf_token: 'CSRF' }
            : { token_type: 'Bearer', expires_in: 600, access_token: 'AT', refresh_token: 'RT' };
        return Promise.resolve(new Response(JSON.stringify(body)));
      }
      seen.push({
        url: req.url,
        authorization: req.headers.get('authorization'),
        csrf: req.headers.get('x-csrf-token'),
      });
      return Promise.resolve(new Response('{}'));
    },
  });
  clients.push(client);
  await client.login('a@b.c', 'pw');
  return { client, seen };
}

/** [target, where the request must go, whether it may carry the credential] for base https://jot.example.com/auth. */
const CASES: [RequestInfo | URL | (() => RequestInfo | URL), string, boolean][] = [
  // Same scheme as the base: a special-scheme relative reference, i.e. a path on the server (as in a browser).
  ['https:evil.com/steal', 'https://jot.example.com/auth/evil.com/steal', true],
  ['http:evil.com/steal', 'http://evil.com/steal', false],
  ['api/rel', 'https://jot.example.com/auth/api/rel', true],
  ['/api/data', 'https://jot.example.com/auth/api/data', true],
  ['//evil.com/steal', 'https://evil.com/steal', false],
  ['/\\evil.com/steal', 'https://evil.com/steal', false],
  ['https://jot.example.com.evil.net/api/data', 'https://jot.example.com.evil.net/api/data', false],
  ['/%2e%2e/admin', 'https://jot.example.com/admin', false],
  ['/%2E./admin', 'https://jot.example.com/admin', false],
  ['https://jot.example.com/auth/%2e%2e/admin', 'https://jot.example.com/admin', false],
  ['https://jot.example.com/authority/x', 'https://jot.example.com/authority/x', false],
  ['https://jot.example.com/auth/api/data', 'https://jot.example.com/auth/api/data', true],
  [new URL('https://evil.com/steal'), 'https://evil.com/steal', false],
  [() => new Request('https://evil.com/steal'), 'https://evil.com/steal', false],
  [() => new Request('https://jot.example.com/auth/api/data'), 'https://jot.example.com/auth/api/data', true],
  [() => new Request('https://jot.example.com/auth/%2e%2e/admin'), 'https://jot.example.com/admin', false],
];

/** A readable test name for a target. */
function nameOf(target: (typeof CASES)[number][0]): string {
  if (typeof target === 'string') return target;
  if (target instanceof URL) return `URL ${target.href}`;
  if (target instanceof Request) return `Request ${target.url}`;
  const made = target();
  return `${made instanceof Request ? 'Request' : 'URL'} ${made instanceof Request ? made.url : String(made)}`;
}

describe.each(['bearer', 'cookie'] as const)('%s mode, base URL with a path', (mode) => {
  it.each(CASES.map(([target, url, ok]) => [nameOf(target), target, url, ok] as const))(
    '%s',
    async (_name, target, url, allowed) => {
      const { client, seen } = await recorder('https://jot.example.com/auth', mode);
      const input = typeof target === 'function' ? target() : target;
      await client.fetch(input, { method: 'POST', body: '{}' });
      expect(seen).toHaveLength(1);
      expect(seen[0]!.url).toBe(url);
      if (mode === 'bearer') expect(seen[0]!.authorization).toBe(allowed ? 'Bearer AT' : null);
      else expect(seen[0]!.csrf).toBe(allowed ? 'CSRF' : null);
      expect(mode === 'bearer' ? seen[0]!.csrf : seen[0]!.authorization).toBeNull();
    },
  );
});

describe('origin-only base URL', () => {
  it('never sends the token off the server, whatever the spelling', async () => {
    const { client, seen } = await recorder('https://jot.example.com', 'bearer');
    const targets = [
      'https:evil.com/steal',
      'http:evil.com/steal',
      'HTTPS:evil.com',
      'api/rel',
      '//evil.com',
      '/\\evil.com',
      '\\\\evil.com',
      'https://jot.example.com.evil.net',
      'https://jot.example.com:444/x',
      'http://jot.example.com/x',
      '/%2e%2e/%2e%2e/x',
    ];
    for (const target of targets) await client.fetch(target).catch(() => undefined);
    for (const { url, authorization } of seen) {
      const onServer = new URL(url).origin === 'https://jot.example.com';
      expect({ url, token: authorization !== null }).toEqual({ url, token: onServer });
    }
    expect(seen.map((s) => s.url)).toContain('https://jot.example.com/evil.com/steal');
    expect(seen.map((s) => s.url)).toContain('https://jot.example.com/api/rel');
    expect(seen.filter((s) => new URL(s.url).hostname.includes('evil')).length).toBeGreaterThanOrEqual(5);
  });

  it('URLs with userinfo are refused by fetch and never get the token', async () => {
    const { client, seen } = await recorder('https://jot.example.com/auth', 'bearer');
    for (const target of [
      'https://jot.example.com@evil.com/api/data',
      'https://user:pw@jot.example.com/auth/api/data',
    ])
      await expect(client.fetch(target)).rejects.toThrow(/credentials/);
    expect(seen).toEqual([]);
  });
});

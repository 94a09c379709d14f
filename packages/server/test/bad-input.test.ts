/** Bad input gets a clear 4xx in the one error shape — never a 500, a hang, or a token echoed back. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

function expectErrorShape(body: unknown, code: string): void {
  expect(body).toEqual({ error: expect.any(String), error_description: expect.any(String), code });
}

describe('malformed requests', () => {
  it('bad JSON → 400 ERR_BAD_JSON', async () => {
    const res = await server.request('POST', '/api/login', { raw: '{"email": "a@b.c", ' });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'ERR_BAD_JSON');
  });

  // Walkthrough 2026-12-02: a body with a "__proto__" key is valid JSON, yet was refused as "not valid JSON".
  it('a "__proto__" key or a constructor.prototype, at any depth → 400 ERR_JSON_FORBIDDEN_KEY naming them', async () => {
    for (const [raw, key] of [
      ['{"email": "a@b.c", "password": "long enough", "__proto__": {"admin": true}}', '__proto__'],
      ['{"email": "a@b.c", "password": {"__proto__": {"x": 1}}}', '__proto__'],
      ['{"email": "a@b.c", "password": "long enough", "\\u005f_proto__": {}}', '__proto__'],
      [
        '{"email": "a@b.c", "password": "long enough", "constructor": {"prototype": {"a": 1}}}',
        'constructor.prototype',
      ],
      ['[{"constructor": {"prototype": {}}}]', 'constructor.prototype'],
    ] as const) {
      expect(JSON.parse(raw)).toBeDefined(); // valid JSON
      const res = await server.request('POST', '/api/login', { raw });
      expect(res.status).toBe(400);
      expectErrorShape(res.body, 'ERR_JSON_FORBIDDEN_KEY');
      expect(res.body.error).toBe('invalid_request');
      expect(res.body.error_description).toMatch(
        new RegExp(`^the JSON body has a forbidden key "${key.replace('.', '\\.')}".*prototype poisoning`),
      );
    }
    // A "constructor" key that holds no "prototype" is no threat: the schema judges it like any unknown field.
    const plain = await server.request('POST', '/api/login', {
      raw: '{"email": "a@b.c", "password": "long enough", "constructor": "x"}',
    });
    expectErrorShape(plain.body, 'ERR_VALIDATION');
  });

  // The scan is secure-json-parse's (Fastify's own): these pin what it must refuse, and what it must let through.
  it('forbidden keys are found in nested objects and arrays, and under any \\u escape of their letters', async () => {
    const login = '"email": "a@b.c", "password": "long enough"';
    for (const [raw, key] of [
      [`{${login}, "profile": {"a": [1, {"b": {"__proto__": {"admin": true}}}]}}`, '__proto__'],
      ['[[{"x": [{"__proto__": null}]}]]', '__proto__'],
      [`{${login}, "\\u005f\\u005f\\u0070\\u0072\\u006f\\u0074\\u006f\\u005f\\u005f": {}}`, '__proto__'],
      [`{${login}, "\\u005F_pr\\u006Fto__"  :  {}}`, '__proto__'],
      [`{${login}, "x": {"constructor": {"prototype": null}}}`, 'constructor.prototype'],
      [`{${login}, "\\u0063onstru\\u0063tor": {"\\u0070rototype": {}}}`, 'constructor.prototype'],
      ['[1, [{"a": {"constructor": {"prototype": {"polluted": true}}}}]]', 'constructor.prototype'],
    ] as const) {
      const parsed: unknown = JSON.parse(raw); // valid JSON
      expect(parsed).toBeDefined();
      const res = await server.request('POST', '/api/login', { raw });
      expect({ raw, status: res.status, code: res.body.code }).toEqual({
        raw,
        status: 400,
        code: 'ERR_JSON_FORBIDDEN_KEY',
      });
      expect(res.body.error_description).toMatch(`forbidden key "${key}"`);
    }
    expect(({} as Record<string, unknown>).admin).toBeUndefined(); // and nothing was polluted meanwhile
    // A "constructor" (or "prototype") key that is not one holding "prototype" is no threat: the schema judges it.
    for (const extra of [
      '"constructor": {"name": "x"}',
      '"constructor": null',
      '"constructor": [{"x": 1}]',
      '"prototype": {}',
      '"x": {"constructor": {"y": {"prototype": 1}}}',
      '"proto": {}',
    ]) {
      const res = await server.request('POST', '/api/login', { raw: `{${login}, ${extra}}` });
      expect({ extra, code: res.body.code }).toEqual({ extra, code: 'ERR_VALIDATION' });
      expect(res.body.error_description).toMatch(/^body: unknown field/);
    }
  });

  it('an empty body, or only a byte-order mark, is 400 ERR_BAD_JSON; one leading mark is dropped', async () => {
    for (const raw of ['', '\ufeff']) {
      const res = await server.request('POST', '/api/login', { raw });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'ERR_BAD_JSON' });
    }
    const marked = await server.request('POST', '/api/login', {
      raw: '\ufeff{"email": "a@b.c", "password": "long enough", "x": 1}',
    });
    expect(marked.body.error_description).toBe('body: unknown field "x"'); // parsed, then judged by the schema
    const twice = await server.request('POST', '/api/login', { raw: '\ufeff\ufeff{}' });
    expect({ status: twice.status, code: twice.body.code }).toEqual({ status: 400, code: 'ERR_BAD_JSON' });
  });

  it('missing fields → 400 ERR_VALIDATION naming the field', async () => {
    const res = await server.request('POST', '/api/login', { body: { email: 'a@example.com' } });
    expect(res.status).toBe(400);
    expectErrorShape(res.body, 'ERR_VALIDATION');
    expect(res.body.error_description).toMatch(/password/);
  });

  it('wrong types and unknown fields → 400', async () => {
    expect((await server.request('POST', '/api/login', { body: { email: 42, password: [] } })).status).toBe(
      400,
    );
    expect(
      (
        await server.request('POST', '/api/register', {
          body: { email: 'x@example.com', password: 'long enough', admin: true },
        })
      ).status,
    ).toBe(400);
  });

  it('a JSON array or string body → 400', async () => {
    expect((await server.request('POST', '/api/login', { raw: '[]' })).status).toBe(400);
    expect((await server.request('POST', '/api/login', { raw: '"x"' })).status).toBe(400);
  });

  it('a refusal names the part and the field in words, not as a JSON pointer', async () => {
    const refusal = async (method: string, path: string, body?: unknown): Promise<string> => {
      const res = await server.request(method, path, { body, token: 'not-checked-before-the-schema' });
      expect(res.status).toBe(400);
      expectErrorShape(res.body, 'ERR_VALIDATION');
      return res.body.error_description as string;
    };
    expect(
      await refusal('POST', '/api/register', { email: 'x@example.com', password: 'long enough', admin: 1 }),
    ).toBe('body: unknown field "admin"');
    expect(await refusal('POST', '/api/login', { email: 'a@example.com' })).toBe(
      'body: missing field "password"',
    );
    expect(await refusal('POST', '/api/login', { email: 'a@example.com', password: 42 })).toBe(
      'body: password must be string',
    );
    expect(await refusal('GET', '/api/admin/users?limit=501')).toBe('querystring: limit must be <= 500');
    // The input guard (after the schema) words its refusals the same way.
    expect(await refusal('GET', '/api/admin/users?offset=1e308')).toMatch(
      /^querystring: offset must be a number/,
    );
    expect(
      await refusal('POST', '/api/login', { email: 'a\u0000@example.com', password: 'long enough' }),
    ).toBe('body: email must not contain control characters');
  });

  it('a field name echoed in a refusal is cut to 100 characters, control characters escaped', async () => {
    const long = await server.request('POST', '/api/login', {
      body: { email: 'a@example.com', password: 'long enough', ['<b>'.repeat(2000)]: 1 },
    });
    expect(long.status).toBe(400);
    expect(long.body.error_description).toBe(`body: unknown field "${'<b>'.repeat(34).slice(0, 100)}..."`);
    const escape = await server.request('POST', '/api/login', {
      body: { email: 'a@example.com', password: 'long enough', 'a\u001b[31mred\u0007': 1 },
    });
    expect(escape.body.error_description).toBe('body: unknown field "a\\u001b[31mred\\u0007"');
  });

  it('an oversized body → 413 ERR_BODY_TOO_LARGE', async () => {
    const res = await server.request('POST', '/api/login', {
      body: { email: 'a@example.com', password: 'x'.repeat(64 * 1024) },
    });
    expect(res.status).toBe(413);
    expectErrorShape(res.body, 'ERR_BODY_TOO_LARGE');
  });

  it('a form or text body on a JSON endpoint → 415', async () => {
    const res = await server.request('POST', '/api/login', {
      raw: 'email=a&password=b',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(res.status).toBe(415);
    expectErrorShape(res.body, 'ERR_UNSUPPORTED_MEDIA_TYPE');
    expect(
      (await server.request('POST', '/api/login', { raw: '{}', contentType: 'text/plain' })).status,
    ).toBe(415);
  });

  it('an unknown route → 404 in the same shape', async () => {
    const res = await server.request('GET', '/api/nope');
    expect(res.status).toBe(404);
    expectErrorShape(res.body, 'ERR_NOT_FOUND');
  });
});

describe('hostile tokens', () => {
  it('a 10 KB token → 401 ERR_JWS_TOO_LARGE, not echoed', async () => {
    const token = 'a'.repeat(5000) + '.' + 'b'.repeat(5000) + '.c';
    const res = await server.request('GET', '/api/whoami', { token });
    expect(res.status).toBe(401);
    expectErrorShape(res.body, 'ERR_JWS_TOO_LARGE');
    expect(res.text).not.toContain('aaaa');
  });

  it('garbage bearer values → 401 invalid_token; a value outside the token syntax → 400 ERR_AUTH_MALFORMED', async () => {
    for (const token of ['x', 'a.b', 'a.b.c.d', '....']) {
      const res = await server.request('GET', '/api/whoami', {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_token');
    }
    // RFC 6750 §2.1: `%` is not in the b64token syntax, so this is a malformed request, not a bad token (§3.1).
    const malformed = await server.request('GET', '/api/whoami', {
      headers: { authorization: 'Bearer %%%.%%%.%%%' },
    });
    expect(malformed.status).toBe(400);
    expectErrorShape(malformed.body, 'ERR_AUTH_MALFORMED');
    const basic = await server.request('GET', '/api/whoami', {
      headers: { authorization: 'Basic Zm9vOmJhcg==' },
    });
    expect(basic.status).toBe(401);
    expectErrorShape(basic.body, 'ERR_AUTH_REQUIRED');
  });

  it('a bad revocation cursor → 400', async () => {
    const res = await server.request('GET', '/api/revocations?since=abc', { token: 'x' });
    expect([400, 401]).toContain(res.status);
  });
});

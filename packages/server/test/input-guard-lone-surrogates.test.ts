/**
 * A lone UTF-16 surrogate (`"\ud800"` in JSON) is ill-formed Unicode: stored or hashed it silently became U+FFFD, so
 * `"\ud800@x.io"` was registered as `"\ufffd@x.io"`, and two passwords differing only in a lone surrogate hashed the
 * same (review L8). The input guard refuses any such string — value or field name, at any depth — with 400
 * `ERR_VALIDATION` naming the field; a proper surrogate pair (an emoji) is just a character.
 */
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { checkRequestInput } from '../src/http/input-guard.js';
import { HttpError } from '../src/http/errors.js';
import { startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery sq';
const ILL_FORMED =
  'must be well-formed Unicode, without a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape)';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server?.close();
});

/** Sends `raw` (JSON text, escapes kept as written) to `path`. */
async function post(path: string, raw: string) {
  const res = await server.request('POST', path, { raw });
  return { status: res.status, code: res.body.code, description: res.body.error_description };
}

describe('the input guard refuses lone UTF-16 surrogates', () => {
  it.each([
    ['a lone high surrogate in the email', `{"email":"\\ud800@x.io","password":"${PASSWORD}"}`, 'email'],
    ['a lone low surrogate in the email', `{"email":"a\\udfff@x.io","password":"${PASSWORD}"}`, 'email'],
    ['surrogates in the wrong order', `{"email":"a\\udc00\\ud800@x.io","password":"${PASSWORD}"}`, 'email'],
    ['a lone surrogate in the name', `{"email":"n@x.io","password":"${PASSWORD}","name":"\\ud800x"}`, 'name'],
    ['a lone surrogate in the password', `{"email":"p@x.io","password":"${PASSWORD}\\ud800"}`, 'password'],
  ])('POST /api/register with %s → 400 ERR_VALIDATION naming the field', async (_, raw, field) => {
    expect(await post('/api/register', raw)).toEqual({
      status: 400,
      code: 'ERR_VALIDATION',
      description: `body: ${field} ${ILL_FORMED}`,
    });
  });

  it('stored nothing for them (no account under U+FFFD)', async () => {
    const users = await server.app.jot.store.listUsers({ limit: 10 });
    expect(users.map((u) => u.email)).toEqual([]);
  });

  it('POST /api/login with a password that differs by a lone surrogate → 400, not a sign-in', async () => {
    const reg = await server.request('POST', '/api/register', {
      body: { email: 'ada@example.com', password: `${PASSWORD}\ufffd` },
    });
    expect(reg.status).toBe(201);
    expect(await post('/api/login', `{"email":"ada@example.com","password":"${PASSWORD}\\ud800"}`)).toEqual({
      status: 400,
      code: 'ERR_VALIDATION',
      description: `body: password ${ILL_FORMED}`,
    });
  });

  it('a surrogate pair is one character and is accepted as such', async () => {
    const res = await server.request('POST', '/api/register', {
      raw: `{"email":"emoji@example.com","password":"${PASSWORD}","name":"Ada \\ud83d\\ude00"}`,
    });
    expect(res.status).toBe(201);
    expect(res.body.name).toBe('Ada 😀');
  });

  it('a field name with a lone surrogate, at any depth, is refused too', () => {
    const refusal = (body: unknown): string => {
      const request = { params: {}, query: {}, body } as unknown as FastifyRequest;
      try {
        checkRequestInput(request);
      } catch (err) {
        expect(err).toBeInstanceOf(HttpError);
        expect((err as HttpError).code).toBe('ERR_VALIDATION');
        return (err as HttpError).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ '\ud800': 1 })).toBe(
      'body: must not have a field name containing a lone UTF-16 surrogate',
    );
    expect(refusal({ a: [{ b: { 'x\udc00': 1 } }] })).toBe(
      'body: a[0].b must not have a field name containing a lone UTF-16 surrogate',
    );
    expect(refusal({ a: ['ok', '\udbff'] })).toBe(`body: a[1] ${ILL_FORMED}`);
  });
});

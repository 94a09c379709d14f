/**
 * One contender of the resource-server benchmark, run as its own process so its CPU time can be read from /proc:
 *
 *   node bench/http/server.js <contender> <alg> <issuer> <jwks-url> <public-pem-file>
 *
 * Every contender serves `GET /hello` → `{"hello":"<sub>"}` behind a check of the same RS256/ES256 access token
 * (signature, `exp`, `iss`, `aud`); `bare` serves it with no check at all. Prints `listening <port>` when ready.
 */
import { readFileSync } from 'node:fs';

const [contender, alg, issuer, jwksUri, pemFile] = process.argv.slice(2);
const AUDIENCE = 'https://api.bench';
const publicPem = readFileSync(pemFile, 'utf8');
const reply = (sub) => ({ hello: sub });

async function fastifyApp() {
  const { default: Fastify } = await import('fastify');
  return Fastify({ logger: false });
}

/** `@jot/verify`'s Fastify guard over a remote JWKS, with or without its verification cache. */
function jotBuilder(cache, offload) {
  return async () => {
    const verify = await import('../../packages/verify/dist/index.js');
    const verifier = verify.createVerifier({
      issuer,
      audience: AUDIENCE,
      algorithms: [alg],
      jwksUri,
      revocation: 'none',
      cookies: false,
      cache: cache ? {} : false,
      ...(offload === undefined ? {} : { offload }),
    });
    await verifier.ready();
    const app = await fastifyApp();
    app.get('/hello', { preHandler: verify.fastifyAuth(verifier) }, (request) =>
      reply(verify.authOf(request).claims.sub),
    );
    return app;
  };
}

/** Each builder returns a listening-ready server: `{ listen(port) → port }`. */
const builders = {
  async bare() {
    const app = await fastifyApp();
    app.get('/hello', () => reply('anonymous'));
    return app;
  },
  jot: jotBuilder(false),
  'jot (cache)': jotBuilder(true),
  // Diagnostics for the offload switch: every signature check on the event loop, or every one on the thread pool.
  'jot (inline)': jotBuilder(false, 'never'),
  'jot (pool)': jotBuilder(false, 'always'),
  // The same as `jot` and `jose`; the bench starts these two with Node's default thread pool (run-http.js).
  'jot (default pool)': jotBuilder(false),
  'jose (default pool)': (...args) => builders.jose(...args),
  async 'fastify-jwt'() {
    const { default: fastifyJwt } = await import('@fastify/jwt');
    const app = await fastifyApp();
    await app.register(fastifyJwt, {
      secret: { public: publicPem },
      verify: { algorithms: [alg], allowedIss: issuer, allowedAud: AUDIENCE },
    });
    app.get('/hello', { onRequest: (request) => request.jwtVerify() }, (request) => reply(request.user.sub));
    return app;
  },
  async jose() {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(jwksUri));
    const app = await fastifyApp();
    app.decorateRequest('claims', null);
    app.addHook('onRequest', async (request, replyTo) => {
      const header = request.headers.authorization ?? '';
      try {
        const { payload } = await jwtVerify(header.slice(7), jwks, {
          algorithms: [alg],
          issuer,
          audience: AUDIENCE,
        });
        request.claims = payload;
      } catch {
        await replyTo.code(401).send({ error: 'invalid_token' });
      }
    });
    app.get('/hello', (request) => reply(request.claims.sub));
    return app;
  },
  async 'express-jwt'() {
    const { default: express } = await import('express');
    const { expressjwt } = await import('express-jwt');
    const jwksRsa = await import('jwks-rsa');
    const app = express();
    app.disable('x-powered-by');
    app.use(
      expressjwt({
        secret: jwksRsa.expressJwtSecret({ jwksUri, cache: true, rateLimit: true }),
        algorithms: [alg],
        issuer,
        audience: AUDIENCE,
      }),
    );
    app.get('/hello', (req, res) => res.json(reply(req.auth.sub)));
    // An app's own error handler: Express's default one would print every refused token's stack to stderr.
    app.use((error, req, res, next) => {
      if (res.headersSent) return next(error);
      res.status(error.status ?? 500).json({ error: error.code ?? 'server_error' });
    });
    return {
      listen: ({ port, host }) =>
        new Promise((resolve) => {
          const server = app.listen(port, host, () => resolve(`http://${host}:${server.address().port}`));
        }),
    };
  },
};

const build = builders[contender];
if (build === undefined) {
  console.error(`unknown contender ${contender}; known: ${Object.keys(builders).join(', ')}`);
  process.exit(2);
}
const app = await build();
const address = await app.listen({ port: 0, host: '127.0.0.1' });
console.log(`listening ${new URL(address).port}`);
process.on('SIGTERM', () => process.exit(0));

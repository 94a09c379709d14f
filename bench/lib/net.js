/** Small network helpers shared by the bench sections that start servers. */
import { createServer } from 'node:net';

/** A TCP port that was free a moment ago on the loopback interface. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** POSTs JSON (or nothing) with an optional bearer token; throws on a non-2xx answer; returns the parsed body. */
export async function postJSON(url, body, token) {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * Small HTTP helpers shared by discovery, the JWKS cache and the revocation strategies: timeouts, no redirects,
 * and bodies read as a bounded stream (a huge or endless answer is cut off at the limit, never buffered whole).
 */
import type { FetchLike } from './types.js';

/** A failed HTTP exchange, with the status when there was a response. Never carries credentials. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly status: number | undefined;
  constructor(message: string, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.status = status;
  }
}

/** `application/json` and the `+json` types (`application/jwk-set+json`, …), parameters allowed. */
export const JSON_CONTENT_TYPE = /^application\/([\w.+-]*\+)?json\b/i;

/**
 * Runs `operation` (requests and the reading of their bodies) with a signal that `closed` aborts, linked only while
 * it runs. Not `AbortSignal.any([closed, …])` per request: Node keeps every signal combined with a long-lived one
 * for as long as that one lives (nodejs/node#55351, #64476), a leak per request.
 */
export async function untilClosed<T>(
  closed: AbortSignal | undefined,
  operation: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  if (closed === undefined) return operation(undefined);
  const ending = new AbortController();
  const end = (): void => ending.abort(closed.reason);
  if (closed.aborted) end();
  else closed.addEventListener('abort', end, { once: true });
  try {
    return await operation(ending.signal);
  } finally {
    closed.removeEventListener('abort', end);
  }
}

/**
 * A request's signal: aborted after `timeoutMs` (the body included) or when `caller` aborts. The link to `caller` —
 * often long-lived, a strategy's closing signal — is dropped when the timeout fires, so a caller signal shared by
 * every request never holds more than the requests of the last `timeoutMs` (see `untilClosed`).
 */
function requestSignal(caller: AbortSignal | null | undefined, timeoutMs: number): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs);
  if (caller === null || caller === undefined) return timeout;
  const request = new AbortController();
  const fromCaller = (): void => request.abort(caller.reason);
  if (caller.aborted) fromCaller();
  else caller.addEventListener('abort', fromCaller, { once: true });
  timeout.addEventListener(
    'abort',
    () => {
      caller.removeEventListener('abort', fromCaller);
      request.abort(timeout.reason);
    },
    { once: true },
  );
  return request.signal;
}

/**
 * `fetch` with a timeout (covering the body too) and `redirect: 'error'`, so a credential is never replayed to
 * wherever a redirect points; non-2xx answers become a `FetchError`.
 */
export async function fetchOk(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit & { timeoutMs: number },
): Promise<Response> {
  const { timeoutMs, signal: caller, ...rest } = init;
  let response: Response;
  try {
    response = await fetchImpl(url, { ...rest, redirect: 'error', signal: requestSignal(caller, timeoutMs) });
  } catch (err) {
    throw new FetchError(`request to ${url} failed`, undefined, err);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchError(`${url} answered ${response.status}`, response.status);
  }
  return response;
}

/**
 * Reads a body as UTF-8 text of at most `maxBytes`: refused up front on a larger `Content-Length`, else streamed and
 * cancelled as soon as the count passes the limit. Invalid UTF-8 is an error, not U+FFFD.
 */
export async function readText(response: Response, url: string, maxBytes: number): Promise<string> {
  const tooLarge = (): FetchError =>
    new FetchError(`${url} answered more than ${maxBytes} bytes`, response.status);
  const declared = response.headers.get('content-length');
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared.trim()) > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof FetchError) throw err;
    throw new FetchError(`reading the answer of ${url} failed`, response.status, err);
  } finally {
    reader.releaseLock();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (err) {
    throw new FetchError(`${url} answered invalid UTF-8`, response.status, err);
  }
}

/** Options of `readJSONObject`. */
export interface ReadJSONOptions {
  /** Largest accepted body. @default 1 MiB */
  maxBytes?: number;
  /** Require a JSON `Content-Type` (`JSON_CONTENT_TYPE`). @default false */
  requireJSONType?: boolean;
}

/** Reads a JSON object body (bounded, see `readText`), or throws a `FetchError`. */
export async function readJSONObject(
  response: Response,
  url: string,
  options: ReadJSONOptions = {},
): Promise<Record<string, unknown>> {
  if (
    options.requireJSONType === true &&
    !JSON_CONTENT_TYPE.test(response.headers.get('content-type') ?? '')
  ) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchError(`${url} did not answer a JSON content type`, response.status);
  }
  const text = await readText(response, url, options.maxBytes ?? 1 << 20);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FetchError(`${url} did not answer JSON`, response.status, err);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FetchError(`${url} did not answer a JSON object`, response.status);
  }
  return value as Record<string, unknown>;
}

/** A short description of an error for logs and `stats()` (no stack, no credentials). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return `${err.message}${cause}`;
  }
  return String(err);
}

/** Small HTTP helpers shared by discovery, the JWKS cache and the revocation strategies: timeouts and JSON. */
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

/** `fetch` with a timeout; non-2xx answers become a `FetchError`. */
export async function fetchOk(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit & { timeoutMs: number },
): Promise<Response> {
  const { timeoutMs, ...rest } = init;
  const signal = AbortSignal.timeout(timeoutMs);
  let response: Response;
  try {
    response = await fetchImpl(url, {
      ...rest,
      signal: rest.signal ? AbortSignal.any([rest.signal, signal]) : signal,
    });
  } catch (err) {
    throw new FetchError(`request to ${url} failed`, undefined, err);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new FetchError(`${url} answered ${response.status}`, response.status);
  }
  return response;
}

/** Reads a JSON object body (at most `maxBytes`), or throws a `FetchError`. */
export async function readJSONObject(
  response: Response,
  url: string,
  maxBytes = 1 << 20,
): Promise<Record<string, unknown>> {
  const text = await response.text();
  if (text.length > maxBytes) throw new FetchError(`${url} answered more than ${maxBytes} bytes`);
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

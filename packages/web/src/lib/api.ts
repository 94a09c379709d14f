/**
 * Calls that need no session (forgot password, the links from messages), and the token a link carries. A link's
 * token sits in the URL fragment (`#/reset-password?token=…`), which browsers never send to a server or put in a
 * Referer; the page reads it once and removes it from the address bar and history entry.
 */

/** The server's error body, as an Error whose message a person can act on; `code` is the stable code. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** POSTs JSON without credentials; resolves the JSON answer or throws an {@link ApiError}. */
export async function postAnonymous<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'omit',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const json: unknown = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    const err = (json ?? {}) as { error_description?: string; code?: string };
    throw new ApiError(
      err.error_description ?? `The server answered ${res.status}.`,
      err.code ?? '',
      res.status,
    );
  }
  return json as T;
}

/** The `token` of the current route's query, removed from the address bar (it stays in this page only). */
export function takeLinkToken(): string | undefined {
  const [path, query = ''] = location.hash.split('?');
  const token = new URLSearchParams(query).get('token') ?? undefined;
  if (query !== '') history.replaceState(history.state, '', `${location.pathname}${location.search}${path}`);
  return token === '' ? undefined : token;
}

/** The payload of a JWT, decoded without verification (for display only: the server checks it). */
export function peekClaims(token: string): Record<string, unknown> {
  try {
    const part = token.split('.')[1] ?? '';
    const bytes = Uint8Array.from(atob(part.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

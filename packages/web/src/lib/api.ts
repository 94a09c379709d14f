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

/** The body as JSON, or undefined when it is empty or not JSON (a proxy's HTML error page, say). */
function jsonOf(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** POSTs JSON without credentials; resolves the JSON answer or throws an {@link ApiError}. */
export async function postAnonymous<T>(path: string, body: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: 'POST',
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError('The server could not be reached. Check your connection and try again.', '', 0);
  }
  const json = jsonOf(await res.text());
  if (!res.ok) {
    const err = (json ?? {}) as { error_description?: string; code?: string };
    throw new ApiError(
      err.error_description ?? `The server answered ${res.status}; try again in a moment.`,
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

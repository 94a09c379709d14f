/**
 * The `scope` of user tokens (RFC 9068 §2.2.3): the scopes the user's roles grant (`JOT_ROLE_SCOPES`; role `*`
 * applies to every user), narrowed to the scopes the client is registered for when it lists any. A scope a
 * request asks for (a refresh with `scope`, RFC 6749 §6) can only narrow this further.
 */
import type { Store } from '../store/index.js';

/** Space-separated scope text from a list; undefined when empty (no `scope` claim at all). */
export function scopeText(scopes: Iterable<string>): string | undefined {
  const list = [...new Set(scopes)].sort();
  return list.length === 0 ? undefined : list.join(' ');
}

/** The scopes in a space-separated `scope` value. */
export function scopeList(scope: string | undefined): string[] {
  return scope === undefined ? [] : scope.split(' ').filter((s) => s.length > 0);
}

/** The policy. */
export interface ScopePolicy {
  /** The scopes a user's token carries for `clientId`. */
  forUser(roles: readonly string[], clientId: string): Promise<string[]>;
  /**
   * The same, for a client whose registered scopes the caller read already (a refresh reads them with its token);
   * `clientScopes` undefined means the client no longer exists, and narrows nothing, as in {@link forUser}.
   */
  forUserOfClient(roles: readonly string[], clientScopes: readonly string[] | undefined): string[];
  /** Every scope the server may issue (`scopes_supported`). */
  supported(): Promise<string[]>;
}

/** Builds the policy from the role → scopes map. */
export function createScopePolicy(
  roleScopes: ReadonlyMap<string, readonly string[]>,
  store: Store,
): ScopePolicy {
  const byRoles = (roles: readonly string[]): Set<string> => {
    const granted = new Set(roleScopes.get('*') ?? []);
    for (const role of roles) for (const scope of roleScopes.get(role) ?? []) granted.add(scope);
    return granted;
  };
  const narrowed = (granted: Set<string>, clientScopes: readonly string[] | undefined): string[] => {
    const allowed =
      clientScopes === undefined || clientScopes.length === 0 ? undefined : new Set(clientScopes);
    return [...granted].filter((scope) => allowed === undefined || allowed.has(scope)).sort();
  };
  return {
    async forUser(roles, clientId) {
      const granted = byRoles(roles);
      if (granted.size === 0) return [];
      return narrowed(granted, (await store.getClient(clientId))?.scopes);
    },
    forUserOfClient(roles, clientScopes) {
      return narrowed(byRoles(roles), clientScopes);
    },
    async supported() {
      const all = new Set<string>();
      for (const scopes of roleScopes.values()) for (const scope of scopes) all.add(scope);
      for (const client of await store.listClients()) for (const scope of client.scopes) all.add(scope);
      return [...all].sort();
    },
  };
}

/**
 * Where a bearer-mode client keeps its device credentials (device-tokens.ts) between sign-ins: beside the DPoP key,
 * in IndexedDB in a browser (so they survive reloads), or in memory where there is none (Node services) — there a
 * long-running process keeps them, and an app that restarts can pass a store of its own (a file, the keychain).
 * A device credential is not a session token: alone it signs no one in; it only exempts this client's password
 * sign-ins from the account-wide lock others can set (their guesses stay bounded).
 */

/**
 * One device credential kept: the account it is (`user`, once known) and the address it signs in with (`account`),
 * and the token. One account has one, whichever way it signed in (password, second step, passkey). Both are kept as
 * base64url SHA-256 of the server's URL and the value (device-tokens.ts): the store holds no email address and no
 * account id as such.
 */
export interface KeptDeviceToken {
  /**
   * The address its account last signed in with by password (as hashed above); undefined: none known (passkey
   * sign-ins only, or the address signs in to another account now).
   */
  account: string | undefined;
  /**
   * The account's id (the `sub` of the access token its sign-in answered, hashed as above); absent: not known (an
   * access token the client cannot read, an entry kept by a version of the client before it read it).
   */
  user?: string;
  token: string;
}

/** Loads and saves the credentials kept for one Jot server (`server`: its base URL), newest first. */
export interface DeviceTokenStore {
  load(server: string): Promise<KeptDeviceToken[]>;
  save(server: string, tokens: KeptDeviceToken[]): Promise<void>;
}

/** Credentials for this process's (or page's) lifetime only; one store may serve several clients. */
export function memoryDeviceTokenStore(): DeviceTokenStore {
  const kept = new Map<string, KeptDeviceToken[]>();
  return {
    load: (server) => Promise.resolve([...(kept.get(server) ?? [])]),
    save: (server, tokens) => {
      kept.set(server, [...tokens]);
      return Promise.resolve();
    },
  };
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** Only what a store can have written: anything else read back is no credential. */
export function keptTokens(value: unknown): KeptDeviceToken[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { account, user, token } = entry as Partial<Record<keyof KeptDeviceToken, unknown>>;
    if (typeof token !== 'string') return [];
    return [
      {
        account: typeof account === 'string' ? account : undefined,
        ...(typeof user === 'string' ? { user } : {}),
        token,
      },
    ];
  });
}

/** Credentials kept in IndexedDB database `name`, one record per server. */
export function indexedDBDeviceTokenStore(name = 'jot-device'): DeviceTokenStore {
  const STORE = 'tokens';
  async function withStore<T>(
    mode: IDBTransactionMode,
    use: (store: IDBObjectStore) => IDBRequest<T>,
  ): Promise<T> {
    const open = indexedDB.open(name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    const db = await request(open);
    try {
      return await request(use(db.transaction(STORE, mode).objectStore(STORE)));
    } finally {
      db.close();
    }
  }
  return {
    load: async (server) => keptTokens(await withStore('readonly', (s) => s.get(server))),
    save: async (server, tokens) => {
      await withStore('readwrite', (s) => s.put(tokens, server));
    },
  };
}

/** IndexedDB in a browser, memory elsewhere. */
export function defaultDeviceTokenStore(): DeviceTokenStore {
  return typeof indexedDB === 'undefined' ? memoryDeviceTokenStore() : indexedDBDeviceTokenStore();
}

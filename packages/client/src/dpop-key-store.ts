/**
 * Where the client's DPoP key pair lives: a non-extractable ECDSA P-256 pair made by WebCrypto, kept in IndexedDB in
 * the browser (so it survives reloads and is shared by the tabs of the origin, while its private half can never be
 * read out — not even by the page's own scripts), or in memory where there is no IndexedDB (Node services).
 */

/** Loads or creates the key pair. */
export interface DPoPKeyStore {
  keyPair(): Promise<CryptoKeyPair>;
  /** Forgets the key (after which a new one is made); the session bound to it cannot be refreshed any more. */
  clear(): Promise<void>;
}

const ALGORITHM: EcKeyGenParams = { name: 'ECDSA', namedCurve: 'P-256' };

function generate(): Promise<CryptoKeyPair> {
  // extractable: false — the private key can sign but never be exported (WebCrypto keeps public keys exportable).
  return crypto.subtle.generateKey(ALGORITHM, false, ['sign', 'verify']);
}

/**
 * A key pair for this process's (or page's) lifetime only, never shared with other tabs: for `bearer` mode. In
 * `memory` mode the tabs share one session bound to one key, so each must use the same key (the IndexedDB store).
 */
export function memoryKeyStore(): DPoPKeyStore {
  let pair: Promise<CryptoKeyPair> | undefined;
  return {
    keyPair: () => (pair ??= generate()),
    clear: () => {
      pair = undefined;
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

/**
 * A key pair kept in IndexedDB database `name` (CryptoKey objects are stored as they are, by structured clone).
 * Two tabs creating one at once agree on the first one written.
 */
export function indexedDBKeyStore(name = 'jot-dpop'): DPoPKeyStore {
  const STORE = 'keys';
  const ID = 'dpop';
  let cached: Promise<CryptoKeyPair> | undefined;

  async function open(): Promise<IDBDatabase> {
    const req = indexedDB.open(name, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    return request(req);
  }

  async function load(): Promise<CryptoKeyPair> {
    const db = await open();
    try {
      const read = db.transaction(STORE, 'readonly').objectStore(STORE).get(ID);
      const existing = (await request(read)) as CryptoKeyPair | undefined;
      if (existing?.privateKey !== undefined) return existing;
      const fresh = await generate();
      // `add` fails when another tab stored one meanwhile: then that one is the key.
      const tx = db.transaction(STORE, 'readwrite');
      const added = await request(tx.objectStore(STORE).add(fresh, ID)).then(
        () => true,
        () => false,
      );
      if (added) return fresh;
      const again = db.transaction(STORE, 'readonly').objectStore(STORE).get(ID);
      return (await request(again)) as CryptoKeyPair;
    } finally {
      db.close();
    }
  }

  return {
    keyPair() {
      cached ??= load().catch((err: unknown) => {
        cached = undefined;
        throw err;
      });
      return cached;
    },
    async clear() {
      cached = undefined;
      const db = await open();
      try {
        await request(db.transaction(STORE, 'readwrite').objectStore(STORE).delete(ID));
      } finally {
        db.close();
      }
    },
  };
}

/** IndexedDB in a browser, memory elsewhere. */
export function defaultKeyStore(): DPoPKeyStore {
  return typeof indexedDB === 'undefined' ? memoryKeyStore() : indexedDBKeyStore();
}

/** Where the page keeps the bearer token: this tab only, gone when it closes (never localStorage, never a cookie). */
export const TOKEN_STORAGE_KEY = 'tessera.console.token';

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A compact JWS (header.payload.signature, base64url); anything else is not worth sending. */
export function looksLikeJwt(value: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(value);
}

/**
 * The operator's bearer token, from `#token=<jwt>` in the address (what `npm run up` prints) or from an earlier
 * visit in this tab. The fragment never reaches the server or its logs; the caller removes it from the address
 * right after (`fragmentWithoutToken`), so it is not left in history or a copied link.
 */
export function takeToken(hash: string, storage: StorageLike): string | null {
  const fromHash = new URLSearchParams(hash.replace(/^#/, '')).get('token')?.trim();
  if (fromHash && looksLikeJwt(fromHash)) {
    storage.setItem(TOKEN_STORAGE_KEY, fromHash);
    return fromHash;
  }
  const stored = storage.getItem(TOKEN_STORAGE_KEY);
  return stored && looksLikeJwt(stored) ? stored : null;
}

/** Where the page keeps the tenant API keys it was given: this tab only, like the token. */
export const API_KEY_STORAGE = { apiKey: 'tessera.console.apiKey', paymentsKey: 'tessera.console.paymentsKey' } as const;

/** An API key as `npm run auth -- apikey create` makes them; anything else is not worth sending. */
export function looksLikeApiKey(value: string): boolean {
  return /^[A-Za-z0-9_-]{8,256}$/.test(value);
}

/**
 * A tenant API key from `#apiKey=` / `#paymentsKey=` in the address (what `npm run up` prints: the gateway no longer
 * hands keys to anyone who asks, issue #13) or from an earlier visit in this tab; null when neither has one.
 */
export function takeApiKey(hash: string, name: keyof typeof API_KEY_STORAGE, storage: StorageLike): string | null {
  const fromHash = new URLSearchParams(hash.replace(/^#/, '')).get(name)?.trim();
  if (fromHash && looksLikeApiKey(fromHash)) {
    storage.setItem(API_KEY_STORAGE[name], fromHash);
    return fromHash;
  }
  const stored = storage.getItem(API_KEY_STORAGE[name]);
  return stored && looksLikeApiKey(stored) ? stored : null;
}

/** The address fragment with the credentials (`token`, `apiKey`, `paymentsKey`) taken out; other parameters stay. */
export function fragmentWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  for (const name of ['token', 'apiKey', 'paymentsKey']) params.delete(name);
  const rest = params.toString();
  return rest ? `#${rest}` : '';
}

/** Seconds until the token's `exp` (unverified: only to tell the user it ran out), or null when unreadable. */
export function secondsLeft(token: string, nowMs: number): number | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? Math.floor(json.exp - nowMs / 1000) : null;
  } catch {
    return null;
  }
}

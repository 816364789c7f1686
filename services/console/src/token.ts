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

/** The address fragment with `token` taken out (other fragment parameters stay). */
export function fragmentWithoutToken(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  params.delete('token');
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

import { fragmentWithoutToken, secondsLeft, takeToken, TOKEN_STORAGE_KEY } from './token';

class MemoryStorage {
  readonly items = new Map<string, string>();
  getItem(k: string) {
    return this.items.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
}

const b64url = (o: object) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const jwt = (claims: object) => `${b64url({ alg: 'ES256', kid: 'k1' })}.${b64url(claims)}.c2ln`;

describe('takeToken', () => {
  it('takes #token=<jwt> from the fragment and keeps it in session storage', () => {
    const storage = new MemoryStorage();
    const token = jwt({ sub: 'op' });
    expect(takeToken(`#token=${token}`, storage)).toBe(token);
    expect(storage.items.get(TOKEN_STORAGE_KEY)).toBe(token);
    expect(takeToken('', storage)).toBe(token);
  });

  it('ignores a fragment value that is not a JWT and falls back to the stored one', () => {
    const storage = new MemoryStorage();
    expect(takeToken('#token=hello', storage)).toBeNull();
    storage.setItem(TOKEN_STORAGE_KEY, jwt({ sub: 'op' }));
    expect(takeToken('#token=<script>', storage)).toBe(storage.items.get(TOKEN_STORAGE_KEY));
  });
});

describe('fragmentWithoutToken', () => {
  it('removes only the token', () => {
    expect(fragmentWithoutToken('#token=a.b.c')).toBe('');
    expect(fragmentWithoutToken('#token=a.b.c&tab=alerts')).toBe('#tab=alerts');
  });
});

describe('secondsLeft', () => {
  it('reads exp without verifying, null when there is none', () => {
    expect(secondsLeft(jwt({ exp: 1_000 }), 400_000)).toBe(600);
    expect(secondsLeft(jwt({ sub: 'x' }), 0)).toBeNull();
    expect(secondsLeft('garbage', 0)).toBeNull();
  });
});

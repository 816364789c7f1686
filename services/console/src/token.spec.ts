import { API_KEY_STORAGE, fragmentWithoutToken, secondsLeft, takeApiKey, takeToken, TOKEN_STORAGE_KEY } from './token';

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

describe('takeApiKey', () => {
  it('takes #apiKey= and #paymentsKey= from the fragment into session storage, and falls back to them', () => {
    const storage = new MemoryStorage();
    expect(takeApiKey('#token=a.b.c&apiKey=tsk_demo_123456&paymentsKey=tsk_pay_654321', 'apiKey', storage)).toBe('tsk_demo_123456');
    expect(takeApiKey('#apiKey=tsk_demo_123456&paymentsKey=tsk_pay_654321', 'paymentsKey', storage)).toBe('tsk_pay_654321');
    expect(storage.items.get(API_KEY_STORAGE.apiKey)).toBe('tsk_demo_123456');
    expect(takeApiKey('', 'apiKey', storage)).toBe('tsk_demo_123456');
    expect(takeApiKey('', 'paymentsKey', new MemoryStorage())).toBeNull();
  });

  it('ignores a value that is not an API key', () => {
    expect(takeApiKey('#apiKey=<script>', 'apiKey', new MemoryStorage())).toBeNull();
  });
});

describe('fragmentWithoutToken', () => {
  it('removes the token and the API keys, nothing else', () => {
    expect(fragmentWithoutToken('#token=a.b.c')).toBe('');
    expect(fragmentWithoutToken('#token=a.b.c&tab=alerts')).toBe('#tab=alerts');
    expect(fragmentWithoutToken('#token=a.b.c&apiKey=tsk_x_12345678&paymentsKey=tsk_y_12345678&tab=alerts')).toBe('#tab=alerts');
  });
});

describe('secondsLeft', () => {
  it('reads exp without verifying, null when there is none', () => {
    expect(secondsLeft(jwt({ exp: 1_000 }), 400_000)).toBe(600);
    expect(secondsLeft(jwt({ sub: 'x' }), 0)).toBeNull();
    expect(secondsLeft('garbage', 0)).toBeNull();
  });
});

import { randomBytes } from 'node:crypto';
import { ConfigError } from '@tessera/config';
import { isAppError } from '@tessera/errors';
import { DEV_INSECURE_KEK_ID, loadPiiKeyring, parsePiiKeys } from './pii-keyring';
import { PiiVault } from './pii-vault';

const key = () => randomBytes(32).toString('base64');
const holder = { fullName: 'Zoë Łukasiewicz', address: '1 Rue de la Paix, Paris', nationalId: 'FR-99887766' };

describe('PiiVault', () => {
  const k1 = key();
  const k2 = key();
  const oldVault = new PiiVault(parsePiiKeys(`k1:${k1}`));
  const rotatedVault = new PiiVault(parsePiiKeys(`k2:${k2},k1:${k1}`));

  describe('seal/open', () => {
    it('round-trips a value and never leaves the plaintext in the sealed bytes', () => {
      const sealed = oldVault.seal(holder);
      expect(sealed.kekId).toBe('k1');
      expect(oldVault.open(sealed)).toEqual(holder);
      const all = Buffer.concat([sealed.wrappedDek, sealed.ciphertext]).toString('latin1');
      expect(all).not.toContain('FR-99887766');
      expect(all).not.toContain('Paix');
    });

    it('uses a fresh data key and IV per value', () => {
      const a = oldVault.seal(holder);
      const b = oldVault.seal(holder);
      expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
      expect(Buffer.from(a.wrappedDek).equals(Buffer.from(b.wrappedDek))).toBe(false);
    });

    it('fails with PAYMENTS.PII_UNDECRYPTABLE on a flipped ciphertext byte', () => {
      const sealed = oldVault.seal(holder);
      const tampered = Uint8Array.from(sealed.ciphertext);
      tampered[20] = (tampered[20] ?? 0) ^ 1;
      expect(() => oldVault.open({ ...sealed, ciphertext: tampered })).toThrow(
        expect.objectContaining({ code: 'PAYMENTS.PII_UNDECRYPTABLE' }),
      );
    });

    it('fails with PAYMENTS.PII_KEY_UNKNOWN when the KEK is not configured', () => {
      const sealed = rotatedVault.seal(holder);
      try {
        oldVault.open(sealed);
        throw new Error('expected failure');
      } catch (err) {
        expect(isAppError(err) && err.code).toBe('PAYMENTS.PII_KEY_UNKNOWN');
      }
    });

    it('refuses a DEK relabelled with another kid (kid is bound as AAD)', () => {
      const both = new PiiVault(parsePiiKeys(`k1:${k1},k2:${k2}`));
      const sealed = both.seal(holder);
      expect(() => both.open({ ...sealed, kekId: 'k2' })).toThrow(expect.objectContaining({ code: 'PAYMENTS.PII_UNDECRYPTABLE' }));
    });
  });

  describe('rewrap', () => {
    it('moves a value to the active KEK without touching the ciphertext', () => {
      const sealed = oldVault.seal(holder);
      expect(rotatedVault.needsRewrap(sealed)).toBe(true);
      const rewrapped = rotatedVault.rewrap(sealed);
      expect(rewrapped.kekId).toBe('k2');
      expect(Buffer.from(rewrapped.ciphertext).equals(Buffer.from(sealed.ciphertext))).toBe(true);
      expect(rotatedVault.needsRewrap(rewrapped)).toBe(false);
      // Readable with k2 alone once rewrapped: k1 can be retired.
      expect(new PiiVault(parsePiiKeys(`k2:${k2}`)).open(rewrapped)).toEqual(holder);
    });
  });
});

describe('parsePiiKeys', () => {
  it('takes the first key as active', () => {
    const ring = parsePiiKeys(`a:${key()}, b:${key()}`);
    expect(ring.activeId).toBe('a');
    expect([...ring.keys.keys()]).toEqual(['a', 'b']);
  });

  it.each([['nokid'], [`a:${Buffer.alloc(16).toString('base64')}`], [`a:${key()},a:${key()}`], [''], ['bad kid:xx']])(
    'rejects %p without echoing key material',
    (raw) => {
      expect(() => parsePiiKeys(raw)).toThrow(ConfigError);
    },
  );
});

describe('loadPiiKeyring', () => {
  it('falls back to dev-insecure outside production', () => {
    expect(loadPiiKeyring({ NODE_ENV: 'test' }).activeId).toBe(DEV_INSECURE_KEK_ID);
  });

  it('refuses to run without keys in production', () => {
    expect(() => loadPiiKeyring({ NODE_ENV: 'production' })).toThrow(ConfigError);
  });
});

describe('PiiVault.digest', () => {
  it('is stable for the same value and key, and differs per key and value', () => {
    const a = new PiiVault({ activeId: 'k1', keys: new Map([['k1', Buffer.alloc(32, 1)]]) });
    const b = new PiiVault({ activeId: 'k2', keys: new Map([['k2', Buffer.alloc(32, 2)]]) });
    const value = { nationalId: 'X123' };
    expect(a.digest(value)).toBe(a.digest({ nationalId: 'X123' }));
    expect(a.digest(value)).toMatch(/^[0-9a-f]{64}$/);
    expect(a.digest(value)).not.toBe(b.digest(value));
    expect(a.digest(value)).not.toBe(a.digest({ nationalId: 'X124' }));
  });
});

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import type { PiiKeyring } from './pii-keyring';
import { piiErrors } from './pii.errors';

/** Envelope-encrypted value: a per-value data key (DEK) wrapped by a key-encryption key (KEK). */
export interface Sealed {
  kekId: string;
  wrappedDek: Uint8Array;
  ciphertext: Uint8Array;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** AAD prefixes so a wrapped DEK can never be passed off as data ciphertext or vice versa. */
const DEK_AAD = 'tessera.pii.dek.v1:';
const DATA_AAD = Buffer.from('tessera.pii.data.v1');

/**
 * Envelope encryption of personal data with AES-256-GCM (node:crypto). Each value gets a fresh DEK;
 * the DEK is stored wrapped by the active KEK, so key rotation re-wraps 60-byte DEKs and never
 * re-encrypts the data. GCM authenticates both layers: a wrong key or a flipped byte fails loudly.
 * Provided to Nest by `piiVaultProvider` (pii-vault.provider.ts) (no decorators here, so operator CLIs run it with plain tsx).
 */
export class PiiVault {
  constructor(private readonly keyring: PiiKeyring) {}

  /** Id of the KEK new data is sealed with. */
  get activeKekId(): string {
    return this.keyring.activeId;
  }

  seal(value: object): Sealed {
    const dek = randomBytes(32);
    try {
      return {
        kekId: this.keyring.activeId,
        wrappedDek: this.wrap(dek, this.keyring.activeId),
        ciphertext: encrypt(dek, Buffer.from(JSON.stringify(value), 'utf8'), DATA_AAD),
      };
    } finally {
      dek.fill(0);
    }
  }

  open<T>(sealed: Sealed): T {
    const dek = this.unwrap(sealed);
    try {
      return JSON.parse(decrypt(dek, sealed.ciphertext, DATA_AAD, sealed.kekId).toString('utf8')) as T;
    } finally {
      dek.fill(0);
    }
  }

  /** True when `sealed` is wrapped by a KEK other than the active one (a rotation candidate). */
  needsRewrap(sealed: Pick<Sealed, 'kekId'>): boolean {
    return sealed.kekId !== this.keyring.activeId;
  }

  /** Re-wraps the DEK under the active KEK; the ciphertext is unchanged. */
  rewrap(sealed: Sealed): Sealed {
    if (!this.needsRewrap(sealed)) return sealed;
    const dek = this.unwrap(sealed);
    try {
      return { kekId: this.keyring.activeId, wrappedDek: this.wrap(dek, this.keyring.activeId), ciphertext: sealed.ciphertext };
    } finally {
      dek.fill(0);
    }
  }

  /**
   * A keyed digest (HMAC-SHA256 under a key derived from the active KEK) for comparing PII without storing
   * it, e.g. in an idempotency fingerprint. A plain hash of a national id could be reversed by trying them
   * all; this cannot without the KEK. After a key rotation digests change, so a retry that spans a
   * rotation is reported as a different request (fail safe, never a wrong replay).
   */
  digest(value: object): string {
    const macKey = createHmac('sha256', this.kek(this.keyring.activeId)).update('tessera.pii.digest.v1').digest();
    return createHmac('sha256', macKey).update(JSON.stringify(value)).digest('hex');
  }

  private wrap(dek: Buffer, kekId: string): Uint8Array {
    return encrypt(this.kek(kekId), dek, Buffer.from(DEK_AAD + kekId));
  }

  private unwrap(sealed: Sealed): Buffer {
    return decrypt(this.kek(sealed.kekId), sealed.wrappedDek, Buffer.from(DEK_AAD + sealed.kekId), sealed.kekId);
  }

  private kek(kekId: string): Buffer {
    const key = this.keyring.keys.get(kekId);
    if (!key) throw piiErrors.unknownKek(kekId);
    return key;
  }
}

/** iv || ciphertext || tag */
function encrypt(key: Buffer, plaintext: Buffer, aad: Buffer): Uint8Array {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()]));
}

function decrypt(key: Buffer, sealed: Uint8Array, aad: Buffer, kekId: string): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < IV_BYTES + TAG_BYTES) throw piiErrors.undecryptable(kekId);
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
    return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
  } catch (err) {
    throw piiErrors.undecryptable(kekId, err);
  }
}

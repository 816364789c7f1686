import { createHash } from 'node:crypto';

/** Namespace of Tessera's name-based ids (a fixed random UUID; changing it would change every derived id). */
const NAMESPACE = Buffer.from('6f1c2b8e4d3a4f5e9a7b0c1d2e3f4a5b', 'hex');

/**
 * The id of the entity an idempotent request creates, derived from its scope and key (RFC 9562 UUIDv5,
 * SHA-1 name-based), so every attempt of one request names the same transfer, hold or batch.
 *
 * Why: the id is sent to compliance before the ledger transaction (screening references it). A random id per
 * attempt made a retry a *different* screening under the same screening key, which compliance rightly refused
 * (COMPLIANCE.IDEMPOTENCY_KEY_REUSED), so retries of an in-flight, crashed or refused request failed forever.
 * `part` tells apart several entities of one request (`batch`, `0`, `1`, … for a batch's transfers).
 */
export function idempotentId(scope: string, key: string, part = ''): string {
  const hash = createHash('sha1').update(NAMESPACE).update(`${scope}\u0000${key}\u0000${part}`, 'utf8').digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50; // version 5
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

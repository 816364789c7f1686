import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkpointFinding, checkpointSignatureValid, loadCheckpointKey, parseCheckpoint, signCheckpoint } from './audit-checkpoints';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const cp = signCheckpoint({ seq: '42', hash: 'a'.repeat(64), at: '2026-12-04T17:00:00.000Z' }, privateKey);

describe('audit checkpoints', () => {
  it('signs seq, hash and time together: changing any of them breaks the signature, as does another key', () => {
    expect(checkpointSignatureValid(cp, publicKey)).toBe(true);
    for (const forged of [
      { ...cp, seq: '41' },
      { ...cp, hash: 'b'.repeat(64) },
      { ...cp, at: '2026-12-04T18:00:00.000Z' },
    ])
      expect(checkpointSignatureValid(forged, publicKey)).toBe(false);
    expect(checkpointSignatureValid(cp, generateKeyPairSync('ed25519').publicKey)).toBe(false);
  });

  it('finds a missing checkpointed record (truncated), a different one (rewritten) and a forged checkpoint', () => {
    expect(checkpointFinding(cp, publicKey, 'a'.repeat(64), 50n)).toBeUndefined();
    expect(checkpointFinding(cp, publicKey, undefined, 30n)).toEqual({
      seq: 42n,
      reason: expect.stringMatching(/^truncated: record 42 .* \(the chain ends at 30\)$/),
    });
    expect(checkpointFinding(cp, publicKey, 'c'.repeat(64), 50n)).toEqual({
      seq: 42n,
      reason: expect.stringMatching(/^rewritten: record 42 /),
    });
    expect(checkpointFinding({ ...cp, seq: '43' }, publicKey, 'a'.repeat(64), 50n)?.reason).toMatch(/not signed by this service/);
  });

  it('reads only signed-checkpoint records from the anchor topic: garbage or another shape is not a checkpoint', () => {
    expect(parseCheckpoint(Buffer.from(JSON.stringify(cp)))).toEqual(cp);
    for (const bad of [
      'not json \u0000',
      '{"v":1}',
      JSON.stringify({ ...cp, seq: 42 }),
      JSON.stringify({ ...cp, seq: '1e9' }),
      JSON.stringify({ ...cp, v: 2 }),
      'null',
      '[]',
    ])
      expect(parseCheckpoint(Buffer.from(bad))).toBeUndefined();
    expect(parseCheckpoint(null)).toBeUndefined();
  });

  it('creates a missing key once (mode 0600) and demands a configured one in production', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cp-key-'));
    const first = loadCheckpointKey({ NODE_ENV: 'test' }, dir);
    expect(statSync(join(dir, 'audit-checkpoint.pem')).mode & 0o777).toBe(0o600);
    expect(createPublicKey(loadCheckpointKey({ NODE_ENV: 'test' }, dir)).export({ format: 'jwk' })).toEqual(
      createPublicKey(first).export({ format: 'jwk' }),
    );
    expect(() => loadCheckpointKey({ NODE_ENV: 'production' }, dir)).toThrow(
      'TRANSACTIONS_AUDIT_CHECKPOINT_KEY_FILE is required in production',
    );
  });
});

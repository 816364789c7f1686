import { auditHash, ChainVerifier, type ChainRecord, GENESIS_HASH } from './audit-chain';
import { canonicalJson } from './canonical-json';

function chain(n: number): ChainRecord[] {
  const out: ChainRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const fields = {
      id: `id-${i}`,
      occurredAt: new Date(1_700_000_000_000 + i),
      actor: 'alice',
      action: 'transfer.posted',
      entityType: 'transfer',
      entityId: `t${i}`,
      payload: { amountMinor: String(i * 100) },
    };
    const hash = auditHash(prev, fields);
    out.push({ ...fields, seq: BigInt(i * 2), prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes bigint as a string', () => {
    expect(canonicalJson({ b: 1, a: { d: 2n, c: [new Date(0), undefined] } })).toBe(
      '{"a":{"c":["1970-01-01T00:00:00.000Z",null],"d":"2"},"b":1}',
    );
  });
});

describe('ChainVerifier', () => {
  it('accepts an intact chain with sequence gaps', () => {
    const v = new ChainVerifier();
    const records = chain(5);
    records.forEach((r) => v.push(r));
    expect(v.result()).toEqual({ valid: true, recordsChecked: 5, headHash: records[4]?.hash });
  });

  it('reports the first record whose content was changed', () => {
    const records = chain(5);
    records[2] = { ...records[2]!, payload: { amountMinor: '1' } };
    const v = new ChainVerifier();
    records.forEach((r) => v.push(r));
    expect(v.result()).toMatchObject({ valid: false, firstInvalidSeq: 6n, failureReason: 'hash mismatch' });
  });

  it('reports a rehashed record at the next link', () => {
    const records = chain(5);
    const forged = { ...records[2]!, actor: 'mallory' };
    records[2] = { ...forged, hash: auditHash(forged.prevHash, forged) };
    const v = new ChainVerifier();
    records.forEach((r) => v.push(r));
    expect(v.result()).toMatchObject({ valid: false, firstInvalidSeq: 8n, failureReason: 'prev_hash does not match previous record' });
  });

  it('reports a deleted record', () => {
    const records = chain(4);
    records.splice(1, 1);
    const v = new ChainVerifier();
    records.forEach((r) => v.push(r));
    expect(v.result()).toMatchObject({ valid: false, firstInvalidSeq: 6n });
  });
});

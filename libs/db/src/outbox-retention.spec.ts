import { PRUNE_SENT_OUTBOX_SQL, pruneSentOutbox } from './outbox-retention';

// The statement itself runs against real Postgres in both services' integration specs; here, the batching.
describe('pruneSentOutbox', () => {
  it('deletes in batches until a batch comes back short', async () => {
    const counts = [3, 3, 1];
    const calls: unknown[][] = [];
    const deleted = await pruneSentOutbox(
      async (sql, values) => {
        expect(sql).toBe(PRUNE_SENT_OUTBOX_SQL);
        calls.push(values);
        return counts.shift() ?? 0;
      },
      { retentionMs: 1_000, batch: 3 },
    );
    expect(deleted).toBe(7);
    expect(calls).toEqual([
      [1_000, 3],
      [1_000, 3],
      [1_000, 3],
    ]);
  });

  it('stops after maxBatches statements, so one call stays short', async () => {
    let calls = 0;
    const deleted = await pruneSentOutbox(async () => (calls++, 10), { retentionMs: 1, batch: 10, maxBatches: 4 });
    expect([deleted, calls]).toEqual([40, 4]);
  });
});

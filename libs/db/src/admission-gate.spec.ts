import { AdmissionGate } from './admission-gate';

const gone = () => new Error('caller gone');
const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
};

describe('AdmissionGate', () => {
  it('runs at most `capacity` at once and admits waiters in order', async () => {
    const gate = new AdmissionGate(2);
    const started: number[] = [];
    const blockers = [deferred(), deferred(), deferred(), deferred()];
    const runs = blockers.map((b, i) =>
      gate.run(undefined, gone, async () => {
        started.push(i);
        await b.promise;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(gate.load).toEqual({ active: 2, waiting: 2 });
    blockers[1]!.resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    blockers.forEach((b) => b.resolve());
    await expect(Promise.all(runs)).resolves.toEqual([0, 1, 2, 3]);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('never starts work whose caller left while it waited, and frees nothing it did not take', async () => {
    const gate = new AdmissionGate(1);
    const first = deferred();
    const running = gate.run(undefined, gone, () => first.promise);
    const abort = new AbortController();
    let ran = false;
    const waiting = gate.run(abort.signal, gone, async () => {
      ran = true;
    });
    abort.abort();
    await expect(waiting).rejects.toThrow('caller gone');
    expect(gate.load).toEqual({ active: 1, waiting: 0 });
    first.resolve();
    await running;
    expect(ran).toBe(false);
    expect(gate.load).toEqual({ active: 0, waiting: 0 });
  });

  it('refuses a caller that is already gone, and releases the slot when work throws', async () => {
    const gate = new AdmissionGate(1);
    const abort = new AbortController();
    abort.abort();
    await expect(gate.run(abort.signal, gone, async () => 1)).rejects.toThrow('caller gone');
    await expect(
      gate.run(undefined, gone, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(gate.run(undefined, gone, async () => 2)).resolves.toBe(2);
    expect(() => new AdmissionGate(0)).toThrow('positive integer');
  });
});

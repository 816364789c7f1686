import { eventually, waitFor } from './wait';

describe('eventually / waitFor', () => {
  it('returns the first defined value, retrying thrown errors', async () => {
    let n = 0;
    await expect(
      eventually(
        'third try',
        () => {
          n++;
          if (n === 1) throw new Error('not yet');
          return n === 3 ? 'ok' : undefined;
        },
        { intervalMs: 1 },
      ),
    ).resolves.toBe('ok');
    expect(n).toBe(3);
  });

  it('names what it waited for and the last error when time runs out', async () => {
    await expect(
      waitFor(
        'the moon',
        () => {
          throw new Error('refused');
        },
        { timeoutMs: 20, intervalMs: 5 },
      ),
    ).rejects.toThrow(/waiting for the moon \(last error: Error: refused\)/);
  });

  it('fails at once on an error retryOn rejects', async () => {
    let n = 0;
    const fatal = Object.assign(new Error('fatal'), { retriable: false });
    await expect(
      waitFor(
        'x',
        () => {
          n++;
          throw fatal;
        },
        { retryOn: (e) => (e as { retriable?: boolean }).retriable === true },
      ),
    ).rejects.toBe(fatal);
    expect(n).toBe(1);
  });
});

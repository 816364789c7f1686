import type { ScreeningInput } from '../screening';
import { BACKGROUND_CONNECTIONS, batchChecks, MAX_BATCH_ITEMS, type ScreenCommand, screeningSlots } from './screen.handler';

const item = (key: string, o: Partial<ScreeningInput> = {}): ScreenCommand => ({
  idempotencyKey: key,
  input: {
    referenceId: 't1',
    movementKind: 'transfer',
    ownerId: 'o1',
    sourceAccountId: 'a',
    destinationAccountId: 'b',
    amountMinor: 10_000n,
    currency: 'EUR',
    counterpartyName: '',
    counterpartyCountry: 'DE',
    ...o,
  },
});
const violations = (items: ScreenCommand[]) =>
  batchChecks(items)
    .filter(([ok]) => !ok)
    .map(([, field, description]) => ({ field, description }));

describe('batchChecks', () => {
  it('accepts 1..100 valid screenings with distinct keys', () => {
    expect(violations([item('key-00001')])).toEqual([]);
    expect(violations(Array.from({ length: MAX_BATCH_ITEMS }, (_, i) => item(`key-${String(i).padStart(5, '0')}`)))).toEqual([]);
  });

  it('refuses an empty or oversized batch as a whole', () => {
    expect(violations([])).toEqual([{ field: 'items', description: '1..100 screenings' }]);
    expect(violations(Array.from({ length: MAX_BATCH_ITEMS + 1 }, (_, i) => item(`key-${i}-xxxx`)))).toEqual([
      { field: 'items', description: '1..100 screenings' },
    ]);
  });

  it('checks each item as Screen does, with field paths under items[i]', () => {
    expect(violations([item('key-00001'), item('short', { amountMinor: 0n, currency: 'eur' })]).map((v) => v.field)).toEqual([
      'items[1].idempotency_key',
      'items[1].subject.amount.amount_minor',
      'items[1].subject.amount.currency',
    ]);
  });

  it('refuses a key used twice, naming the repeat and its first use', () => {
    expect(violations([item('key-00001'), item('key-00002'), item('key-00001')])).toEqual([
      { field: 'items[2].idempotency_key', description: 'same key as items[0]' },
    ]);
  });
});

describe('screeningSlots', () => {
  it('leaves the background work (AML monitor, outbox relay) its connections, and admits at least one screening', () => {
    expect(BACKGROUND_CONNECTIONS).toBe(2);
    expect(screeningSlots(8)).toBe(6);
    expect(screeningSlots(3)).toBe(1);
    expect(screeningSlots(1)).toBe(1);
  });
});

import { idempotentId } from './idempotent-id';

describe('idempotentId', () => {
  it('names the same entity for every attempt of one request, and another for any other scope, key or part', () => {
    const id = idempotentId('payments.CreateTransfer', 'key-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idempotentId('payments.CreateTransfer', 'key-1')).toBe(id);
    const others = [
      idempotentId('payments.CreateTransfer', 'key-2'),
      idempotentId('payments.AuthorizeHold', 'key-1'),
      idempotentId('payments.CreateTransfer', 'key-1', '0'),
      idempotentId('payments.CreateTransfer', 'key-1', 'batch'),
      // the separator keeps (scope, key) pairs apart even when their concatenations are equal
      idempotentId('payments.CreateTransferk', 'ey-1'),
    ];
    expect(new Set([id, ...others]).size).toBe(others.length + 1);
  });
});

import { AppError } from '@tessera/errors';
import { InMemoryAccountRepository } from '../../../test/support/in-memory-account.repository';
import { decodePageToken, encodePageToken } from '../../ledger/page-token';
import { DEFAULT_PAGE_SIZE, ListAccountsHandler, MAX_PAGE_SIZE } from './list-accounts.handler';

const ID = '0b9a1a52-2f57-4c4e-9d59-1f0a6e4b2c11';
const b64 = (value: string) => Buffer.from(value).toString('base64url');

async function rejection(p: Promise<unknown>): Promise<AppError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof AppError) return error;
  throw new Error(`expected an AppError, got ${String(error)}`);
}

describe('page tokens', () => {
  it('round-trip the (created_at, id) cursor to the millisecond', () => {
    const createdAt = new Date('2026-11-25T10:11:12.345Z');
    const token = encodePageToken({ createdAt, id: ID });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePageToken(token)).toEqual({ createdAt, id: ID });
  });

  it.each([
    ['garbage', 'not a token!'],
    ['base64 of non-JSON', b64('hello')],
    ['an object', b64('{}')],
    ['null', b64('null')],
    ['a bad date', b64(JSON.stringify(['yesterday', ID]))],
    ['a bad id', b64(JSON.stringify([new Date().toISOString(), 'x']))],
    ['a missing id', b64(JSON.stringify([new Date().toISOString()]))],
  ])('reject %s with INVALID_ARGUMENT', (_label, token) => {
    let thrown: unknown;
    try {
      decodePageToken(token);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect(thrown).toMatchObject({ code: 'PAYMENTS.INVALID_PAGE_TOKEN', kind: 'INVALID_ARGUMENT' });
  });
});

describe('ListAccountsHandler', () => {
  let repo: InMemoryAccountRepository;
  let handler: ListAccountsHandler;
  beforeEach(() => {
    repo = new InMemoryAccountRepository();
    handler = new ListAccountsHandler(repo.asRepository());
  });

  describe('execute', () => {
    it('walks every account exactly once, in creation order, across pages', async () => {
      const base = Date.parse('2026-01-01T00:00:00Z');
      // Two accounts share a timestamp so the id tiebreak is exercised.
      const ids = [0, 1, 2, 2, 3, 4, 5].map((ms) => repo.add({ createdAt: new Date(base + ms) }).id);
      const seen: string[] = [];
      let pageToken = '';
      let pages = 0;
      do {
        const page = await handler.execute({ pageSize: 3, pageToken });
        expect(page.accounts.length).toBeLessThanOrEqual(3);
        seen.push(...page.accounts.map((a) => a.id));
        pageToken = page.nextPageToken;
        pages++;
      } while (pageToken && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(7);
      expect(new Set(seen)).toEqual(new Set(ids));
      expect(seen.slice(0, 2)).toEqual(ids.slice(0, 2));
    });

    it('gives no next token when the page is the last, even if exactly full', async () => {
      for (let i = 0; i < 3; i++) repo.add({ createdAt: new Date(Date.now() + i) });
      const page = await handler.execute({ pageSize: 3, pageToken: '' });
      expect(page.accounts).toHaveLength(3);
      expect(page.nextPageToken).toBe('');
    });

    it.each([
      [0, DEFAULT_PAGE_SIZE],
      [-5, DEFAULT_PAGE_SIZE],
      [3, 3],
      [MAX_PAGE_SIZE, MAX_PAGE_SIZE],
      [MAX_PAGE_SIZE + 1, MAX_PAGE_SIZE],
      [1_000_000, MAX_PAGE_SIZE],
    ])('clamps page size %p to %p (asking the repository for one more)', async (requested, effective) => {
      await handler.execute({ pageSize: requested, pageToken: '' });
      expect(repo.listCalls.at(-1)?.pageSize).toBe(effective + 1);
    });

    it('passes filters and the decoded cursor to the repository', async () => {
      const createdAt = new Date('2026-02-03T04:05:06.007Z');
      await handler.execute({
        pageSize: 10,
        pageToken: encodePageToken({ createdAt, id: ID }),
        ownerId: 'cust-9',
        status: 'FROZEN',
        currency: 'USD',
      });
      expect(repo.listCalls.at(-1)).toEqual({
        filter: { ownerId: 'cust-9', status: 'FROZEN', currency: 'USD' },
        pageSize: 11,
        after: { createdAt, id: ID },
      });
    });

    it('rejects a garbage token and an unknown currency without querying', async () => {
      await expect(rejection(handler.execute({ pageSize: 3, pageToken: 'garbage' }))).resolves.toMatchObject({
        code: 'PAYMENTS.INVALID_PAGE_TOKEN',
        kind: 'INVALID_ARGUMENT',
      });
      await expect(rejection(handler.execute({ pageSize: 3, pageToken: '', currency: 'XYZW' }))).resolves.toMatchObject({
        code: 'PAYMENTS.INVALID_ACCOUNT_REQUEST',
        fieldViolations: [{ field: 'currency', description: expect.any(String) }],
      });
      expect(repo.listCalls).toHaveLength(0);
    });
  });
});

import { dropDatabase } from './drop-database';

// A stand-in for pg's Client: the drop's retry on 42501 is what is under test, not Postgres.
const queries: string[] = [];
const connections: string[] = [];
let failures: { code: string }[] = [];
const ended = jest.fn();
jest.mock('pg', () => ({
  Client: class {
    constructor(readonly config: { connectionString?: string }) {
      connections.push(config.connectionString ?? '');
    }
    connect(): Promise<void> {
      return Promise.resolve();
    }
    async query(text: string): Promise<void> {
      queries.push(text);
      const failure = failures.shift();
      if (failure) throw Object.assign(new Error('must be a member of the role whose process is being terminated'), failure);
    }
    async end(): Promise<void> {
      ended();
    }
  },
}));

beforeEach(() => {
  queries.length = 0;
  connections.length = 0;
  failures = [];
  ended.mockClear();
});

describe('dropDatabase', () => {
  it('drops with FORCE from the server’s postgres database', async () => {
    await dropDatabase('postgresql://u:p@127.0.0.1:5432/tessera_x');
    expect(connections).toEqual(['postgresql://u:p@127.0.0.1:5432/postgres']);
    expect(queries).toEqual(['DROP DATABASE IF EXISTS "tessera_x" WITH (FORCE)']);
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('retries while an autovacuum worker makes FORCE refuse (42501), then drops', async () => {
    failures = [{ code: '42501' }, { code: '42501' }];
    await dropDatabase('postgresql://u:p@127.0.0.1:5432/postgres', 'tessera_y');
    expect(queries).toHaveLength(3);
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('gives up with the refusal once the wait is over', async () => {
    failures = Array.from({ length: 100 }, () => ({ code: '42501' }));
    await expect(dropDatabase('postgresql://u:p@127.0.0.1:5432/postgres', 'tessera_z', 250)).rejects.toMatchObject({ code: '42501' });
    expect(queries.length).toBeGreaterThan(1);
    expect(ended).toHaveBeenCalledTimes(1);
  });

  it('does not retry other errors', async () => {
    failures = [{ code: '55006' }];
    await expect(dropDatabase('postgresql://u:p@127.0.0.1:5432/postgres', 'tessera_w')).rejects.toMatchObject({ code: '55006' });
    expect(queries).toHaveLength(1);
  });

  it('refuses a name it would have to quote', async () => {
    await expect(dropDatabase('postgresql://u:p@127.0.0.1:5432/postgres', 'x"; DROP')).rejects.toMatchObject({
      code: 'DB.BAD_DATABASE_NAME',
    });
    expect(connections).toEqual([]);
  });
});

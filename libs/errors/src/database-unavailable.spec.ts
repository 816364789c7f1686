import { status as GrpcCode } from '@grpc/grpc-js';
import { DATABASE_UNAVAILABLE_CODE, databaseUnavailable } from './database-unavailable';
import { toGrpcStatus } from './grpc-status';

/** Errors shaped as the drivers throw them (pg-pool, node-postgres, Prisma's client and driver adapter). */
const poolTimeout = new Error('timeout exceeded when trying to connect');
const prismaTxStart = Object.assign(new Error('Transaction API error: Unable to start a transaction in the given time.'), {
  code: 'P2028',
  name: 'PrismaClientKnownRequestError',
});
const tooManyConnections = Object.assign(new Error('sorry, too many clients already'), { code: '53300' });
const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
const wrapped = new Error('driver adapter error', {
  cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
});
/** Prisma 7 with @prisma/adapter-pg, as thrown with the server stopped (probed against a closed port). */
const adapterError = (cause: Record<string, unknown>) =>
  Object.assign(new Error(String(cause['kind'])), { name: 'DriverAdapterError', cause });
const prismaUnreachable = Object.assign(new Error("Can't reach database server at 127.0.0.1:55499"), {
  name: 'PrismaClientKnownRequestError',
  code: 'P1001',
  meta: { driverAdapterError: adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 55499 }) },
});
const prismaRawUnreachable = Object.assign(new Error('Raw query failed. Code: `N/A`.'), {
  name: 'PrismaClientKnownRequestError',
  code: 'P2010',
  meta: { driverAdapterError: adapterError({ kind: 'DatabaseNotReachable' }) },
});
const prismaTerminated = Object.assign(new Error('terminating connection due to administrator command'), {
  name: 'PrismaClientKnownRequestError',
  code: 'P2010',
  meta: { driverAdapterError: adapterError({ kind: 'postgres', code: '57P01', originalCode: '57P01', severity: 'FATAL' }) },
});
const prismaReset = Object.assign(new Error('Server has closed the connection.'), { code: 'P1017' });

describe('databaseUnavailable', () => {
  it.each([
    ['a pool with no free connection in time', poolTimeout],
    ["Prisma's transaction that could not start", prismaTxStart],
    ['too many connections', tooManyConnections],
    ['a refused connection', refused],
    ['a cause chain (Prisma wrapping node-postgres)', wrapped],
    ["Prisma's P1001 (server unreachable)", prismaUnreachable],
    ["a raw query's P2010 whose driver adapter error says DatabaseNotReachable", prismaRawUnreachable],
    ["a raw query's P2010 over a terminated connection (57P01 in the adapter error)", prismaTerminated],
    ["Prisma's P1017 (server closed the connection)", prismaReset],
    ['a pooled node-postgres client whose connection died', new Error('Client has encountered a connection error and is not queryable')],
  ])('turns %s into UNAVAILABLE DB.UNAVAILABLE, keeping the original as cause', (_what, err) => {
    const app = databaseUnavailable(err);
    expect(app).toMatchObject({ code: DATABASE_UNAVAILABLE_CODE, kind: 'UNAVAILABLE' });
    expect(app?.cause).toBe(err);
    expect(app?.message).not.toMatch(/127\.0\.0\.1|P2028|53300/);
  });

  it('leaves bugs and constraint violations alone (they stay INTERNAL)', () => {
    expect(databaseUnavailable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBeUndefined();
    expect(
      databaseUnavailable(Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' })),
    ).toBeUndefined();
    expect(databaseUnavailable(Object.assign(new Error('Unique constraint failed'), { code: 'P2002' }))).toBeUndefined();
    expect(databaseUnavailable(undefined)).toBeUndefined();
    // A raw query's own SQL error (P2010 with a postgres adapter error) stays a bug.
    expect(
      databaseUnavailable(
        Object.assign(new Error('Raw query failed'), {
          code: 'P2010',
          meta: { driverAdapterError: adapterError({ kind: 'postgres', code: '42601' }) },
        }),
      ),
    ).toBeUndefined();
  });

  it('makes toGrpcStatus answer UNAVAILABLE instead of INTERNAL, without the driver text', () => {
    const s = toGrpcStatus(poolTimeout);
    expect(s.code).toBe(GrpcCode.UNAVAILABLE);
    expect(s.details).not.toContain('timeout exceeded');
    expect(toGrpcStatus(new Error('boom')).code).toBe(GrpcCode.INTERNAL);
  });
});

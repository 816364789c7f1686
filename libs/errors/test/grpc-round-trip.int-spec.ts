import { credentials, Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { paymentsV1 } from '@tessera/contracts';
import { AppError, fromGrpcError, toGrpcStatus } from '../src';

/** A real grpc-js server and client on loopback: proves the details trailer survives HTTP/2 framing. */
describe('toGrpcStatus -> fromGrpcError over a real gRPC call', () => {
  let server: Server;
  let client: paymentsV1.AccountServiceClient;
  let thrown: unknown;

  beforeAll(async () => {
    server = new Server();
    const fail = (_call: unknown, callback: (err: Partial<ServiceError>) => void): void => callback(toGrpcStatus(thrown));
    server.addService(paymentsV1.AccountServiceService, {
      openAccount: fail,
      getAccount: fail,
      listAccounts: fail,
      freezeAccount: fail,
      closeAccount: fail,
      getBalance: fail,
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    client = new paymentsV1.AccountServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  });

  afterAll(async () => {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  const call = (): Promise<AppError> =>
    new Promise((resolve, reject) =>
      client.getAccount({ accountId: 'a-1' }, (err) => (err ? resolve(fromGrpcError(err)) : reject(new Error('expected failure')))),
    );

  it('keeps code, kind, message, metadata and field violations', async () => {
    thrown = new AppError({
      code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
      kind: 'NOT_FOUND',
      message: 'Account not found',
      metadata: { accountId: 'a-1' },
      fieldViolations: [{ field: 'accountId', description: 'unknown id' }],
    });
    const err = await call();
    expect({ code: err.code, kind: err.kind, message: err.message, metadata: err.metadata, fieldViolations: err.fieldViolations }).toEqual({
      code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
      kind: 'NOT_FOUND',
      message: 'Account not found',
      metadata: { accountId: 'a-1' },
      fieldViolations: [{ field: 'accountId', description: 'unknown id' }],
    });
  });

  it('reports a non-AppError as a generic INTERNAL error', async () => {
    thrown = new Error('secret internals');
    const err = await call();
    expect(err.kind).toBe('INTERNAL');
    expect(err.message).not.toContain('secret');
  });
});

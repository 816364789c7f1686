/**
 * A REAL grpc-js server on an ephemeral port serving paymentsV1.AccountService from an in-test
 * implementation; every assertion goes over the socket.
 */
import { credentials, loadPackageDefinition, type ServiceClientConstructor, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { AppError, isAppError } from '@tessera/errors';
import { clearComponentFailures, reportComponentFailure } from '@tessera/telemetry';
import pino from 'pino';
import {
  authClientInterceptor,
  checkHealth,
  createGrpcClient,
  createGrpcServer,
  unaryCall,
  unaryService,
  type CallContext,
  type GrpcServerHandle,
  type UnaryImplementation,
} from '../src';

const logger = pino({ level: 'silent' });
const Svc = paymentsV1.AccountServiceService;
type Impl = UnaryImplementation<typeof Svc>;

const account = (id: string): paymentsV1.Account =>
  paymentsV1.Account.fromPartial({ id, ownerId: 'owner-1', name: 'Main', currency: 'EUR', version: 3n });

let calls: Record<string, number> = {};
let lastCtx: CallContext | undefined;
const count = (m: string) => (calls[m] = (calls[m] ?? 0) + 1);

const implementation: Impl = {
  async getAccount(req, ctx) {
    count(`getAccount:${req.accountId}`);
    lastCtx = ctx;
    if (req.accountId === 'flaky' && calls['getAccount:flaky']! < 3) {
      throw new AppError({ code: 'TEST.FLAKY', kind: 'UNAVAILABLE', message: 'try again' });
    }
    if (req.accountId === 'missing') {
      throw new AppError({
        code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
        kind: 'NOT_FOUND',
        message: 'account not found',
        metadata: { accountId: 'missing' },
      });
    }
    return { account: account(req.accountId) };
  },
  async openAccount(req) {
    count('openAccount');
    if (req.name === 'boom') throw new Error('connection string postgres://secret@db leaked?');
    if (req.name === 'flaky') throw new AppError({ code: 'TEST.FLAKY', kind: 'UNAVAILABLE', message: 'try again' });
    if (!req.currency) {
      throw new AppError({
        code: 'PAYMENTS.INVALID_ACCOUNT',
        kind: 'INVALID_ARGUMENT',
        message: 'invalid account',
        fieldViolations: [{ field: 'currency', description: 'required' }],
      });
    }
    return { account: account('new') };
  },
  async getBalance(_req, ctx) {
    await new Promise((r) => setTimeout(r, 1_000));
    if (ctx.signal.aborted) throw new AppError({ code: 'TEST.LATE', kind: 'DEADLINE_EXCEEDED', message: 'late' });
    return {};
  },
  listAccounts: async () => ({ accounts: [], nextPageToken: '' }) as unknown as paymentsV1.ListAccountsResponse,
  freezeAccount: async () => ({}),
  closeAccount: async () => ({}),
};

function startServer(extra: Partial<Parameters<typeof createGrpcServer>[0]> = {}): Promise<GrpcServerHandle> {
  return createGrpcServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    descriptorSetPath,
    services: [{ definition: Svc, implementation: unaryService(Svc, implementation, { logger }) }],
    shutdownGraceMs: 1_000,
    ...extra,
  });
}

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('gRPC over a real socket', () => {
  let handle: GrpcServerHandle;
  let addr: string;
  beforeAll(async () => {
    handle = await startServer();
    addr = `127.0.0.1:${handle.port}`;
  });
  afterAll(() => handle?.shutdown());
  beforeEach(() => {
    calls = {};
    lastCtx = undefined;
  });

  const client = (opts: Partial<Parameters<typeof createGrpcClient>[2]> = {}) =>
    createGrpcClient(paymentsV1.AccountServiceClient, addr, { retry: 'idempotent', idempotentMethods: ['getAccount'], ...opts });

  it('returns the response of a successful call', async () => {
    const res = await unaryCall(client(), 'getAccount', { accountId: 'acc-1' });
    expect(res.account).toMatchObject({ id: 'acc-1', currency: 'EUR', version: 3n });
  });

  it('turns a thrown AppError into a status whose ErrorInfo decodes back', async () => {
    const err = await rejection(unaryCall(client(), 'getAccount', { accountId: 'missing' }));
    expect(err).toMatchObject({
      code: 'PAYMENTS.ACCOUNT_NOT_FOUND',
      kind: 'NOT_FOUND',
      message: 'account not found',
      metadata: { accountId: 'missing' },
    });

    const bad = await rejection(unaryCall(client(), 'openAccount', paymentsV1.OpenAccountRequest.fromPartial({ name: 'x' })));
    expect(bad).toMatchObject({
      code: 'PAYMENTS.INVALID_ACCOUNT',
      kind: 'INVALID_ARGUMENT',
      fieldViolations: [{ field: 'currency', description: 'required' }],
    });
  });

  it('hides unexpected errors behind a generic INTERNAL', async () => {
    const err = await rejection(unaryCall(client(), 'openAccount', paymentsV1.OpenAccountRequest.fromPartial({ name: 'boom' })));
    expect(err.kind).toBe('INTERNAL');
    expect(err.message).not.toMatch(/postgres|secret/);
  });

  it('fails with DEADLINE_EXCEEDED when the per-call or default deadline passes', async () => {
    const perCall = await rejection(unaryCall(client(), 'getBalance', { accountId: 'a' }, { deadlineMs: 100 }));
    expect(perCall.kind).toBe('DEADLINE_EXCEEDED');
    const byDefault = await rejection(unaryCall(client({ defaultDeadlineMs: 100 }), 'getBalance', { accountId: 'a' }));
    expect(byDefault.kind).toBe('DEADLINE_EXCEEDED');
  });

  it('retries idempotent methods on UNAVAILABLE and never the others', async () => {
    const res = await unaryCall(client(), 'getAccount', { accountId: 'flaky' });
    expect(res.account?.id).toBe('flaky');
    expect(calls['getAccount:flaky']).toBe(3);

    const err = await rejection(unaryCall(client(), 'openAccount', paymentsV1.OpenAccountRequest.fromPartial({ name: 'flaky' })));
    expect(err.kind).toBe('UNAVAILABLE');
    expect(calls['openAccount']).toBe(1);

    calls = {};
    await rejection(unaryCall(client({ retry: 'none' }), 'getAccount', { accountId: 'flaky' }));
    expect(calls['getAccount:flaky']).toBe(1);
  });

  it('carries the forwarded credential (authorization, x-api-key) into the handler context, never x-tessera-principal', async () => {
    const authed = client({ interceptors: [authClientInterceptor(() => ({ authorization: 'Bearer abc', apiKey: 'tsk_k_s' }))] });
    await unaryCall(authed, 'getAccount', { accountId: 'acc-1' });
    expect(lastCtx).toMatchObject({
      authorization: 'Bearer abc',
      apiKey: 'tsk_k_s',
      method: '/tessera.payments.v1.AccountService/GetAccount',
    });
    expect(lastCtx!.metadata.get('x-tessera-principal')).toEqual([]);
    expect(lastCtx!.deadline).toBeInstanceOf(Date);
  });

  it('reports a plaintext call as such, with no peer identity', async () => {
    await unaryCall(client(), 'getAccount', { accountId: 'acc-1' });
    expect(lastCtx).toMatchObject({ transport: 'plaintext', peer: undefined });
  });

  it('reports SERVING through the health service, per service and overall', async () => {
    await expect(checkHealth(addr)).resolves.toBe('SERVING');
    await expect(checkHealth(addr, 'tessera.payments.v1.AccountService')).resolves.toBe('SERVING');
    await expect(checkHealth(addr, 'tessera.nope.v1.Nope')).resolves.toBe('SERVICE_UNKNOWN');
    handle.health.setStatus('tessera.payments.v1.AccountService', 'NOT_SERVING');
    await expect(checkHealth(addr, 'tessera.payments.v1.AccountService')).resolves.toBe('NOT_SERVING');
    handle.health.setStatus('tessera.payments.v1.AccountService', 'SERVING');
  });

  it('lists the registered services through reflection', async () => {
    const protoPath = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    const pkg = loadPackageDefinition(loadSync(protoPath, { keepCase: true })) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: ServiceClientConstructor } } };
    };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(addr, credentials.createInsecure());
    const stream = reflection['ServerReflectionInfo']!() as ClientDuplexStream<
      unknown,
      { list_services_response?: { service: { name: string }[] } }
    >;
    const names = await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (msg) => {
        resolve((msg.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
        stream.end();
      });
      stream.on('error', reject);
      stream.write({ list_services: '*' });
    });
    reflection.close();
    expect(names).toContain('tessera.payments.v1.AccountService');
    expect(names).not.toContain('tessera.payments.v1.TransferService');
  });

  it('turns NOT_SERVING, overall and per service, once a component of the process stopped for good', async () => {
    const other = await startServer();
    const otherAddr = `127.0.0.1:${other.port}`;
    try {
      await expect(checkHealth(otherAddr, 'tessera.payments.v1.AccountService')).resolves.toBe('SERVING');
      reportComponentFailure('kafka consumer test.crashed', new Error('Snappy compression not implemented'));
      await expect(checkHealth(otherAddr)).resolves.toBe('NOT_SERVING');
      await expect(checkHealth(otherAddr, 'tessera.payments.v1.AccountService')).resolves.toBe('NOT_SERVING');
      // A server started after the failure starts NOT_SERVING too: the process is still broken.
      const late = await startServer();
      await expect(checkHealth(`127.0.0.1:${late.port}`)).resolves.toBe('NOT_SERVING');
      await late.shutdown();
    } finally {
      clearComponentFailures();
      await other.shutdown();
      for (const name of ['', ...handle.serviceNames]) handle.health.setStatus(name, 'SERVING'); // the shared server saw it too
    }
  });

  it('refuses calls once shut down', async () => {
    const other = await startServer();
    const otherAddr = `127.0.0.1:${other.port}`;
    await expect(checkHealth(otherAddr)).resolves.toBe('SERVING');
    await other.shutdown();
    const err = await rejection(checkHealth(otherAddr, '', { timeoutMs: 500 }));
    expect(['UNAVAILABLE', 'DEADLINE_EXCEEDED']).toContain(err.kind);
  });
});

/**
 * mTLS over REAL sockets with certificates from the dev CA generator (ensureDevPki, the same code as
 * `npm run infra -- certs`): the server is built from grpcTransportFromEnv exactly as the services build it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { descriptorSetPath, paymentsV1 } from '@tessera/contracts';
import { AppError, isAppError } from '@tessera/errors';
import pino from 'pino';
import {
  checkHealth,
  createGrpcClient,
  createGrpcServer,
  ensureDevPki,
  grpcTransportFromEnv,
  tlsEnv,
  unaryCall,
  unaryService,
  type CallContext,
  type GrpcServerHandle,
  type UnaryImplementation,
} from '../src';

const logger = pino({ level: 'silent' });
const Svc = paymentsV1.AccountServiceService;
let lastCtx: CallContext | undefined;

const implementation: UnaryImplementation<typeof Svc> = {
  async getAccount(req, ctx) {
    lastCtx = ctx;
    return { account: paymentsV1.Account.fromPartial({ id: req.accountId, ownerId: 'o', name: 'n', currency: 'EUR', version: 1n }) };
  },
  openAccount: async () => ({}),
  getBalance: async () => ({}),
  listAccounts: async () => ({ accounts: [], nextPageToken: '' }) as unknown as paymentsV1.ListAccountsResponse,
  freezeAccount: async () => ({}),
  closeAccount: async () => ({}),
};

async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (error) {
    if (isAppError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** A handshake failure surfaces as UNAVAILABLE (or the deadline, if the peer hangs up slowly). */
const REFUSED = /UNAVAILABLE|DEADLINE_EXCEEDED/;

describe('mTLS between services (grpcTransportFromEnv + dev CA)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tessera-mtls-'));
  const ours = join(root, 'ours');
  const rogue = join(root, 'rogue');
  const env = (dir: string) => ({ ...tlsEnv(dir), NODE_ENV: 'test' });
  let handle: GrpcServerHandle;
  let port: number;

  beforeAll(async () => {
    ensureDevPki({ dir: ours, identities: ['transactions', 'gateway', 'compliance'] });
    // A second, unrelated CA issuing certificates with the very same names.
    ensureDevPki({ dir: rogue, identities: ['gateway', 'transactions'], caName: 'Rogue CA' });
    handle = await createGrpcServer({
      port: 0,
      host: '127.0.0.1',
      logger,
      descriptorSetPath,
      transport: grpcTransportFromEnv('transactions', env(ours)),
      services: [{ definition: Svc, implementation: unaryService(Svc, implementation, { logger }) }],
      shutdownGraceMs: 500,
    });
    port = handle.port;
  }, 60_000);
  afterAll(async () => {
    await handle?.shutdown();
    rmSync(root, { recursive: true, force: true });
  });
  beforeEach(() => (lastCtx = undefined));

  const call = (opts: Partial<Parameters<typeof createGrpcClient>[2]>, addr = `127.0.0.1:${port}`) =>
    unaryCall(createGrpcClient(paymentsV1.AccountServiceClient, addr, { retry: 'none', defaultDeadlineMs: 3_000, ...opts }), 'getAccount', {
      accountId: 'acc-1',
    });

  it('completes a call between two certificates of the dev CA, and the handler sees the caller CN as peer', async () => {
    const res = await call({ transport: grpcTransportFromEnv('gateway', env(ours)) });
    expect(res.account?.id).toBe('acc-1');
    expect(lastCtx).toMatchObject({ transport: 'mtls', peer: 'gateway' });
  });

  it('verifies the server by its SAN: localhost works as well as 127.0.0.1', async () => {
    await expect(call({ transport: grpcTransportFromEnv('gateway', env(ours)) }, `localhost:${port}`)).resolves.toBeDefined();
  });

  it('answers health checks over mTLS (how /health and `infra status` probe)', async () => {
    const credentials = grpcTransportFromEnv('gateway', env(ours)).client;
    await expect(checkHealth(`127.0.0.1:${port}`, '', { credentials, timeoutMs: 2_000 })).resolves.toBe('SERVING');
  });

  it('refuses a plaintext client', async () => {
    expect((await rejection(call({}))).kind).toMatch(REFUSED);
    expect((await rejection(checkHealth(`127.0.0.1:${port}`, '', { timeoutMs: 1_000 }))).kind).toMatch(REFUSED);
    expect(lastCtx).toBeUndefined();
  });

  it('refuses a TLS client that presents no certificate', async () => {
    expect((await rejection(call({ tls: { ca: readFileSync(join(ours, 'ca.crt')) } }))).kind).toMatch(REFUSED);
    expect(lastCtx).toBeUndefined();
  });

  it('refuses a client certificate from another CA, even with a trusted name', async () => {
    const tls = {
      ca: readFileSync(join(ours, 'ca.crt')),
      cert: readFileSync(join(rogue, 'gateway.crt')),
      key: readFileSync(join(rogue, 'gateway.key')),
    };
    expect((await rejection(call({ tls }))).kind).toMatch(REFUSED);
    expect(lastCtx).toBeUndefined();
  });

  it('does not trust a server whose certificate comes from another CA', async () => {
    expect((await rejection(call({ transport: grpcTransportFromEnv('gateway', env(rogue)) }))).kind).toMatch(REFUSED);
    expect(lastCtx).toBeUndefined();
  });

  it('refuses a server certificate that does not name the host the client asked for', async () => {
    // The client means to reach "billing"; the server proves only transactions/localhost/127.0.0.1.
    const err = await rejection(
      call({ transport: grpcTransportFromEnv('gateway', env(ours)), channelOptions: { 'grpc.ssl_target_name_override': 'billing' } }),
    );
    expect(err.kind).toMatch(REFUSED);
    expect(lastCtx).toBeUndefined();
    // Control: the same override naming a SAN the certificate carries connects.
    await expect(
      call({ transport: grpcTransportFromEnv('gateway', env(ours)), channelOptions: { 'grpc.ssl_target_name_override': 'transactions' } }),
    ).resolves.toBeDefined();
  });

  it('reads the peer certificate once per connection, and each connection sees its own caller', async () => {
    // A local subchannel pool: each client its own connection, not one left open by an earlier test.
    const client = (identity: string) =>
      createGrpcClient(paymentsV1.AccountServiceClient, `127.0.0.1:${port}`, {
        retry: 'none',
        defaultDeadlineMs: 3_000,
        transport: grpcTransportFromEnv(identity, env(ours)),
        channelOptions: { 'grpc.use_local_subchannel_pool': 1 },
      });
    const gateway = client('gateway');
    const compliance = client('compliance');
    const reads = jest.spyOn(TLSSocket.prototype, 'getPeerCertificate');
    try {
      const peers: Array<string | undefined> = [];
      for (const c of [gateway, compliance, gateway, compliance, gateway, compliance]) {
        await unaryCall(c, 'getAccount', { accountId: 'acc-1' });
        peers.push(lastCtx?.peer);
      }
      expect(peers).toEqual(['gateway', 'compliance', 'gateway', 'compliance', 'gateway', 'compliance']);
      // One server-side read per connection; grpc-js internals changed shape if this is 6. (Clients read the
      // server's certificate in the handshake, in this same process.)
      const serverSide = reads.mock.contexts.filter(
        (socket) => (socket as unknown as { _tlsOptions?: { isServer?: boolean } })._tlsOptions?.isServer === true,
      );
      expect(serverSide.length).toBe(2);
    } finally {
      reads.mockRestore();
      gateway.close();
      compliance.close();
    }
  });
});

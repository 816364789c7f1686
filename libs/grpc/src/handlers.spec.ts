import { EventEmitter } from 'node:events';
import { Metadata, type ServerUnaryCall, type ServiceError, status } from '@grpc/grpc-js';
import { fromGrpcError } from '@tessera/errors';
import { clearFaults, setFault } from '@tessera/telemetry';
import { nulFieldsOf, wrapUnary } from './handlers';

function fakeCall<Req>(request: Req): ServerUnaryCall<Req, unknown> {
  const call = Object.assign(new EventEmitter(), {
    request,
    metadata: new Metadata(),
    getPath: () => '/tessera.test.v1.Test/Do',
    getDeadline: () => Infinity,
    getAuthContext: () => ({}),
  });
  return call as unknown as ServerUnaryCall<Req, unknown>;
}

function invoke<Req>(
  handler: ReturnType<typeof wrapUnary<Req, unknown>>,
  request: Req,
): Promise<{ error: ServiceError | null; value: unknown }> {
  return new Promise((resolve) => handler(fakeCall(request), (error, value) => resolve({ error: error as ServiceError | null, value })));
}

describe('nulFieldsOf', () => {
  it('names every string field holding U+0000, nested and in arrays, and ignores bytes', () => {
    expect(nulFieldsOf({ name: 'ok', labels: { a: 'x\u0000y' }, items: [{ note: '\u0000' }], data: new Uint8Array([0]) })).toEqual([
      'labels.a',
      'items[0].note',
    ]);
    expect(nulFieldsOf({ name: 'fine', n: 0n, when: new Date(0) })).toEqual([]);
  });
});

describe('wrapUnary', () => {
  it('refuses a request with NUL in a string as INVALID_ARGUMENT before the handler runs', async () => {
    const handler = jest.fn(async () => ({ ok: true }));
    const { error } = await invoke(wrapUnary(handler), { name: 'a\u0000b' });
    expect(handler).not.toHaveBeenCalled();
    expect(error?.code).toBe(status.INVALID_ARGUMENT);
    const app = fromGrpcError(error);
    expect(app.code).toBe('GRPC.NUL_IN_STRING');
    expect(app.fieldViolations).toEqual([{ field: 'name', description: 'must not contain U+0000' }]);
  });

  it('passes a clean request to the handler and returns its answer', async () => {
    const { error, value } = await invoke(
      wrapUnary(async (req: { name: string }) => ({ echo: req.name })),
      { name: 'ab' },
    );
    expect(error).toBeNull();
    expect(value).toEqual({ echo: 'ab' });
  });

  describe('with a grpc-server fault switched on (runtime fault toggles)', () => {
    afterEach(() => clearFaults());

    it('answers UNAVAILABLE FAULT.INJECTED for matching methods without running the handler', async () => {
      setFault('grpc-server', { errorRate: 1, match: '/Do' }, {});
      const handler = jest.fn(async () => ({ ok: true }));
      const { error } = await invoke(wrapUnary(handler), { name: 'ab' });
      expect(handler).not.toHaveBeenCalled();
      expect(error?.code).toBe(status.UNAVAILABLE);
      expect(fromGrpcError(error).code).toBe('FAULT.INJECTED');
    });

    it('leaves other methods alone and only delays when no error rate is set', async () => {
      setFault('grpc-server', { errorRate: 1, match: 'Screen' }, {});
      expect(
        (
          await invoke(
            wrapUnary(async () => ({ ok: true })),
            {},
          )
        ).error,
      ).toBeNull();
      setFault('grpc-server', { delayMs: 60 }, {});
      const started = Date.now();
      expect(
        (
          await invoke(
            wrapUnary(async () => ({ ok: true })),
            {},
          )
        ).value,
      ).toEqual({ ok: true });
      expect(Date.now() - started).toBeGreaterThanOrEqual(55);
    });
  });
});

import { context, INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { RPCType, setRPCMetadata, type RPCMetadata } from '@opentelemetry/core';
import { node } from '@opentelemetry/sdk-node';
import Fastify, { type FastifyRequest } from 'fastify';
import { setHttpRoute } from './http-route.metrics';

describe('setHttpRoute', () => {
  // Registers the AsyncLocalStorage context manager, as startTelemetry does in the services.
  const provider = new node.NodeTracerProvider();
  beforeAll(() => provider.register());
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  /** The route fastify matched for `url`, handed to setHttpRoute inside a context like instrumentation-http's. */
  async function routeOf(url: string): Promise<string | undefined> {
    const app = Fastify();
    let matched: Pick<FastifyRequest, 'routeOptions'> | undefined;
    app.addHook('onRequest', async (request) => void (matched = { routeOptions: request.routeOptions }));
    app.get('/v1/transfers/:transferId', async () => ({ ok: true }));
    await app.inject({ method: 'GET', url });
    await app.close();
    const rpc: RPCMetadata = { type: RPCType.HTTP, span: trace.wrapSpanContext(INVALID_SPAN_CONTEXT) };
    context.with(setRPCMetadata(context.active(), rpc), () => setHttpRoute(matched!));
    return rpc.route;
  }

  it('sets the route template, not the URL with its ids', async () => {
    expect(await routeOf('/v1/transfers/5f0c3a52-9a53-4a52-8d0c-2d6b3a1b7e11?x=1')).toBe('/v1/transfers/:transferId');
  });

  it('leaves unmatched paths without a route, so random URLs never become labels', async () => {
    expect(await routeOf('/no/such/path/123')).toBeUndefined();
  });
});

import { context } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/**
 * Gives `http.server.request.duration` (and the server span) its `http.route`: the matched route
 * template (`/v1/transfers/:transferId`), never the raw URL, so the RED series stay one per route.
 * instrumentation-http reads the route from the RPC metadata in the request's context when the
 * response finishes; without a fastify instrumentation nobody fills it in, so this hook does.
 * Unmatched paths (404s) keep no route on purpose: arbitrary URLs would be unbounded labels.
 */
export function labelHttpRoutes(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request) => setHttpRoute(request));
}

/** Copies the matched route template into the active request context's RPC metadata, if both exist. */
export function setHttpRoute(request: Pick<FastifyRequest, 'routeOptions'>): void {
  const route = request.routeOptions.url;
  const rpc = getRPCMetadata(context.active());
  if (route && rpc?.type === RPCType.HTTP) rpc.route = route;
}

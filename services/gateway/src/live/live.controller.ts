import { type Metadata, status as GrpcStatus, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { type BeforeApplicationShutdown, Controller, Get, Inject, Query, Req, Res } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { AppError, fromGrpcError } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { AllowApiKey, AllowQueryCredentials, RequireScopes, TenantFromQuery } from '../auth/auth.decorators';
import { CallMetadata } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { RateLimitClass } from '../rate-limit/rate-limits';
import { type LiveQuery, liveQuery, toAggregateView } from '../insights/insights.dto';
import { INSIGHTS_CLIENT } from '../peers/peers.module';
import { sseComment, sseEvent, sseRetry } from './sse';

type AggregateStream = ClientReadableStream<analyticsV1.StreamAggregatesResponse>;

const RECONNECT_MS = 3_000;

/**
 * `GET /v1/live/aggregates`: new aggregate revisions of one tenant as Server-Sent Events, relayed from
 * InsightsService.StreamAggregates. Auth and the upstream subscription are settled before the 200, so a bad key
 * or a down insights service is an ordinary problem+json; after that, an upstream failure is an `error` event
 * and the stream ends (EventSource reconnects after `retry`). A slow browser pauses the gRPC stream, which
 * pushes back to insights, whose bounded per-subscriber queue drops the oldest updates.
 *
 * Credentials: `Authorization: Bearer` or `X-Api-Key`, or, because EventSource cannot send headers, the query
 * parameters `access_token` (a JWT) or `apiKey`. Prefer short-lived tokens there: URLs end up in proxy logs.
 */
@Controller('v1/live')
export class LiveController implements BeforeApplicationShutdown {
  private readonly logger = createLogger('LiveController');
  /** Open streams, ended at shutdown so the HTTP drain does not wait for browsers that never leave. */
  private readonly open = new Set<(why: string) => void>();

  constructor(
    @Inject(INSIGHTS_CLIENT) private readonly insights: analyticsV1.InsightsServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  beforeApplicationShutdown(): void {
    for (const close of [...this.open]) close('gateway shutting down');
  }

  @Get('aggregates')
  @AllowApiKey()
  @AllowQueryCredentials()
  @RequireScopes('insights:read')
  @TenantFromQuery('tenantId')
  @RateLimitClass('live')
  async aggregates(
    @Query(new ZodPipe(liveQuery, 'HTTP.INVALID_QUERY')) query: LiveQuery,
    @CallMetadata() metadata: Metadata,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    // No deadline: the subscription lasts as long as the browser stays (the default one would cut it).
    const call = this.insights.streamAggregates(
      { tenantId: query.tenantId, streamId: query.streamId ?? '', metric: query.metric ?? '' },
      metadata,
      { deadline: Infinity },
    );
    await this.subscribed(call);

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(sseRetry(RECONNECT_MS) + sseComment('subscribed'));

    let closed = false;
    const heartbeat = setInterval(() => res.write(sseComment('heartbeat')), this.config.GATEWAY_LIVE_HEARTBEAT_MS);
    const close = (why: string) => {
      if (closed) return;
      closed = true;
      this.open.delete(close);
      clearInterval(heartbeat);
      call.cancel();
      if (!res.writableEnded) res.end();
      this.logger.debug({ tenantId: query.tenantId, why }, 'live stream closed');
    };

    this.open.add(close);
    call.on('data', (message: analyticsV1.StreamAggregatesResponse) => {
      const a = message.aggregate;
      if (!a || closed) return;
      if (!res.write(sseEvent('aggregate', toAggregateView(a), `${a.windowKey}#${a.revision}`))) {
        call.pause();
        res.once('drain', () => call.resume());
      }
    });
    call.on('error', (err: ServiceError) => {
      if (err.code !== GrpcStatus.CANCELLED && !closed) {
        const e = fromGrpcError(err);
        res.write(sseEvent('error', { code: e.code, message: e.message }));
        this.logger.warn({ code: e.code }, 'live upstream failed');
      }
      close('upstream error');
    });
    call.on('end', () => close('upstream ended'));
    // The browser went away (tab closed, EventSource.close(), network): end the gRPC subscription too.
    req.raw.on('close', () => close('client disconnected'));
    res.on('close', () => close('client disconnected'));
  }

  /** Resolves once insights accepted the subscription (response headers); otherwise rejects with its error. */
  private subscribed(call: AggregateStream): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        call.cancel();
        reject(
          new AppError({ code: 'GATEWAY.UPSTREAM_TIMEOUT', kind: 'DEADLINE_EXCEEDED', message: 'The live feed did not answer in time' }),
        );
      }, this.config.GATEWAY_GRPC_DEADLINE_MS);
      const onError = (err: ServiceError) => {
        clearTimeout(timer);
        reject(fromGrpcError(err));
      };
      call.once('error', onError);
      call.once('metadata', () => {
        clearTimeout(timer);
        call.removeListener('error', onError);
        resolve();
      });
    });
  }
}

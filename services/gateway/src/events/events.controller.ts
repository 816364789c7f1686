import type { Metadata } from '@grpc/grpc-js';
import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { type GatewayConfig, GATEWAY_CONFIG } from '../config';
import { AllowApiKey, RequireScopes } from '../auth/auth.decorators';
import { CallMetadata } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { RateLimitClass } from '../rate-limit/rate-limits';
import { INGEST_CLIENT } from '../peers/peers.module';
import { type IngestEventsBody, ingestEventsBody, type IngestEventsView, type RejectionView, toAnalyticsEvent } from './event.dto';

/**
 * `POST /v1/events`: a JSON batch forwarded to `tessera.analytics.v1.IngestService.IngestBatch` with the caller's
 * credential (tenant API key or bearer token with events:write) as gRPC metadata; ingest takes the tenant from it. 200 means "these were stored, those were refused, per event"; a 503
 * carries Retry-After and means nothing of the batch was acknowledged (retry it with the same event ids).
 */
@Controller('v1/events')
export class EventsController {
  constructor(
    @Inject(INGEST_CLIENT) private readonly ingest: analyticsV1.IngestServiceClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Post()
  @HttpCode(200)
  @AllowApiKey()
  @RequireScopes('events:write')
  @RateLimitClass('ingest')
  async create(
    @Body(new ZodPipe(ingestEventsBody, 'HTTP.INVALID_REQUEST', '(body)', { refuseNul: false })) body: IngestEventsBody,
    @CallMetadata() metadata: Metadata,
  ): Promise<IngestEventsView> {
    const local: RejectionView[] = [];
    const forwarded: analyticsV1.AnalyticsEvent[] = [];
    const positions: number[] = []; // request index of each forwarded event
    body.events.forEach((raw, index) => {
      const mapped = toAnalyticsEvent(raw, index);
      if ('rejection' in mapped) local.push(mapped.rejection);
      else {
        forwarded.push(mapped.event);
        positions.push(index);
      }
    });

    // An UNAVAILABLE answer leaves through ProblemFilter as 503 with Retry-After (ingest's hint, else the default).
    const res = await unaryCall(
      this.ingest,
      'ingestBatch',
      { events: forwarded },
      { metadata, deadlineMs: this.config.GATEWAY_EVENTS_DEADLINE_MS },
    );
    const remote = res.rejections.map((r) => ({
      index: positions[r.index] ?? r.index,
      eventId: r.eventId,
      code: r.code,
      reason: r.reason,
    }));
    return { accepted: res.accepted, rejections: [...local, ...remote].sort((a, b) => a.index - b.index) };
  }
}

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { requireTenant, principalOf } from '@tessera/auth';
import type { analyticsV1 } from '@tessera/contracts';
import { type CallContext, wrapUnary } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { aggregateToProto, topNEntryToProto } from './aggregates/aggregate.codec';
import { GetAggregatesHandler } from './aggregates/get-aggregates/get-aggregates.handler';
import { GetTopNHandler } from './aggregates/get-top-n/get-top-n.handler';
import { StreamAggregatesGrpc } from './live/stream-aggregates.grpc';

/**
 * gRPC face of InsightsService: protobuf to handler queries and back; StreamAggregates is in live/. Calls arrive
 * authorised by the CallGuard (auth/insights.policy.ts); each read is then confined to the credential's tenant.
 */
@Injectable()
export class InsightsGrpc {
  private readonly logger = createLogger('InsightsGrpc');

  constructor(
    private readonly getAggregates: GetAggregatesHandler,
    private readonly getTopN: GetTopNHandler,
    private readonly streamAggregates: StreamAggregatesGrpc,
  ) {}

  implementation(): UntypedServiceImplementation {
    const options = { logger: this.logger };
    return {
      getAggregates: wrapUnary(
        async (req: analyticsV1.GetAggregatesRequest, ctx: CallContext): Promise<analyticsV1.GetAggregatesResponse> => {
          assertTenant(ctx, req.tenantId);
          const page = await this.getAggregates.execute({
            tenantId: req.tenantId,
            streamId: req.streamId,
            metric: req.metric,
            dimensionKey: req.dimensionKey,
            dimensionValue: req.dimensionValue,
            from: req.from,
            to: req.to,
            windowSizeSeconds: Number(req.windowSizeSeconds),
            pageSize: req.page?.pageSize ?? 0,
            pageToken: req.page?.pageToken ?? '',
          });
          return { aggregates: page.aggregates.map(aggregateToProto), page: { nextPageToken: page.nextPageToken } };
        },
        options,
      ),
      getTopN: wrapUnary(async (req: analyticsV1.GetTopNRequest, ctx: CallContext): Promise<analyticsV1.GetTopNResponse> => {
        assertTenant(ctx, req.tenantId);
        const entries = await this.getTopN.execute({
          tenantId: req.tenantId,
          metric: req.metric,
          dimensionKey: req.dimensionKey,
          from: req.from,
          to: req.to,
          limit: req.limit,
          orderBy: req.orderBy,
        });
        return { entries: entries.map(topNEntryToProto) };
      }, options),
      streamAggregates: this.streamAggregates.handler(),
    };
  }
}

/** Another tenant's data is PERMISSION_DENIED; an empty tenant_id is left to the handler (INVALID_ARGUMENT). */
export function assertTenant(call: { metadata: object }, tenantId: string): void {
  if (tenantId !== '') requireTenant(principalOf(call), tenantId);
}

import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { wrapUnary } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { aggregateToProto, topNEntryToProto } from './aggregates/aggregate.codec';
import { GetAggregatesHandler } from './aggregates/get-aggregates/get-aggregates.handler';
import { GetTopNHandler } from './aggregates/get-top-n/get-top-n.handler';
import { StreamAggregatesGrpc } from './live/stream-aggregates.grpc';

/** gRPC face of InsightsService: protobuf to handler queries and back; StreamAggregates is in live/. */
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
      getAggregates: wrapUnary(async (req: analyticsV1.GetAggregatesRequest): Promise<analyticsV1.GetAggregatesResponse> => {
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
      }, options),
      getTopN: wrapUnary(async (req: analyticsV1.GetTopNRequest): Promise<analyticsV1.GetTopNResponse> => {
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

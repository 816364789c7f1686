import { Controller, Get, Headers, Inject, Query } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { nextPageTokenOf } from '../http/common.dto';
import { ZodPipe } from '../http/zod-body.pipe';
import { INSIGHTS_CLIENT } from '../peers/peers.module';
import {
  type AggregatesQuery, aggregatesQuery, type AggregateView, toAggregateView, toGetAggregatesRequest, toGetTopNRequest, topQuery, type TopQuery, toTopView,
  type TopView,
} from './insights.dto';
import { TenantAuth } from './tenant-auth';

/** Stored window aggregates (`tessera.analytics.v1.InsightsService`), scoped to the tenant of the API key. */
@Controller('v1/insights')
export class InsightsController {
  constructor(
    @Inject(INSIGHTS_CLIENT) private readonly insights: analyticsV1.InsightsServiceClient,
    private readonly auth: TenantAuth,
  ) {}

  @Get('aggregates')
  async aggregates(
    @Query(new ZodPipe(aggregatesQuery, 'HTTP.INVALID_QUERY')) query: AggregatesQuery,
    @Headers('x-api-key') apiKey: string | undefined,
  ): Promise<{ items: AggregateView[]; nextPageToken: string | null }> {
    this.auth.authorize(query.tenantId, apiKey, query.apiKey);
    const res = await unaryCall(this.insights, 'getAggregates', toGetAggregatesRequest(query));
    return { items: res.aggregates.map(toAggregateView), nextPageToken: nextPageTokenOf(res.page) };
  }

  @Get('top')
  async top(@Query(new ZodPipe(topQuery, 'HTTP.INVALID_QUERY')) query: TopQuery, @Headers('x-api-key') apiKey: string | undefined): Promise<TopView> {
    this.auth.authorize(query.tenantId, apiKey, query.apiKey);
    return toTopView(await unaryCall(this.insights, 'getTopN', toGetTopNRequest(query)));
  }
}

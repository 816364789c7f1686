import type { Metadata } from '@grpc/grpc-js';
import { Controller, Get, Inject, Query } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { unaryCall } from '@tessera/grpc';
import { AllowApiKey, RequireScopes, TenantFromQuery } from '../auth/auth.decorators';
import { nextPageTokenOf } from '../http/common.dto';
import { CallMetadata } from '../http/request-context';
import { ZodPipe } from '../http/zod-body.pipe';
import { INSIGHTS_CLIENT } from '../peers/peers.module';
import {
  type AggregatesQuery,
  aggregatesQuery,
  type AggregateView,
  toAggregateView,
  toGetAggregatesRequest,
  toGetTopNRequest,
  topQuery,
  type TopQuery,
  toTopView,
  type TopView,
} from './insights.dto';

/**
 * Stored window aggregates (`tessera.analytics.v1.InsightsService`). The `tenantId` asked for must be the
 * credential's tenant (403 otherwise); insights checks the forwarded credential again.
 */
@AllowApiKey()
@RequireScopes('insights:read')
@TenantFromQuery('tenantId')
@Controller('v1/insights')
export class InsightsController {
  constructor(@Inject(INSIGHTS_CLIENT) private readonly insights: analyticsV1.InsightsServiceClient) {}

  @Get('aggregates')
  async aggregates(
    @Query(new ZodPipe(aggregatesQuery, 'HTTP.INVALID_QUERY')) query: AggregatesQuery,
    @CallMetadata() metadata: Metadata,
  ): Promise<{ items: AggregateView[]; nextPageToken: string | null }> {
    const res = await unaryCall(this.insights, 'getAggregates', toGetAggregatesRequest(query), { metadata });
    return { items: res.aggregates.map(toAggregateView), nextPageToken: nextPageTokenOf(res.page) };
  }

  @Get('top')
  async top(@Query(new ZodPipe(topQuery, 'HTTP.INVALID_QUERY')) query: TopQuery, @CallMetadata() metadata: Metadata): Promise<TopView> {
    return toTopView(await unaryCall(this.insights, 'getTopN', toGetTopNRequest(query), { metadata }));
  }
}

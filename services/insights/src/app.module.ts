import { type DynamicModule, Module } from '@nestjs/common';
import { AggregateRepository } from './aggregates/aggregate.repository';
import { AggregatesConsumer } from './aggregates/aggregates.consumer';
import { ApplyAggregateHandler } from './aggregates/apply-aggregate/apply-aggregate.handler';
import { GetAggregatesHandler } from './aggregates/get-aggregates/get-aggregates.handler';
import { GetTopNHandler } from './aggregates/get-top-n/get-top-n.handler';
import { callerAuthenticatorProvider } from './auth/auth.provider';
import { type InsightsConfig, INSIGHTS_CONFIG } from './config';
import { InsightsGrpc } from './insights.grpc';
import { AggregateFeed } from './live/aggregate-feed';
import { StreamAggregatesGrpc } from './live/stream-aggregates.grpc';
import { GrpcServerHost } from './platform/grpc-server.host';
import { PrismaService } from './platform/prisma.provider';

@Module({})
export class AppModule {
  static forRoot(config: InsightsConfig): DynamicModule {
    return {
      module: AppModule,
      providers: [
        { provide: INSIGHTS_CONFIG, useValue: config },
        { provide: AggregateFeed, useValue: new AggregateFeed(config.INSIGHTS_STREAM_BUFFER) },
        PrismaService,
        callerAuthenticatorProvider,
        AggregateRepository,
        ApplyAggregateHandler,
        GetAggregatesHandler,
        GetTopNHandler,
        StreamAggregatesGrpc,
        InsightsGrpc,
        GrpcServerHost,
        AggregatesConsumer,
      ],
    };
  }
}

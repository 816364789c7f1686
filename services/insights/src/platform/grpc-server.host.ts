import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1 } from '@tessera/contracts';
import { type CallerAuthenticator, GuardedGrpcServer } from '@tessera/auth';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { INSIGHTS_POLICY } from '../auth/insights.policy';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';
import { InsightsGrpc } from '../insights.grpc';
import { StreamAggregatesGrpc } from '../live/stream-aggregates.grpc';
import { PrismaService } from './prisma.provider';

const DB_PROBE_MS = 5_000;

/**
 * Hosts the gRPC server (@tessera/auth `GuardedGrpcServer`); InsightsService is SERVING only while its read model's
 * database answers.
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: GuardedGrpcServer;

  constructor(
    @Inject(INSIGHTS_CONFIG) config: InsightsConfig,
    insights: InsightsGrpc,
    private readonly streams: StreamAggregatesGrpc,
    prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) authenticator: CallerAuthenticator,
  ) {
    this.server = new GuardedGrpcServer({
      name: 'insights',
      port: config.INSIGHTS_GRPC_PORT,
      host: config.INSIGHTS_GRPC_HOST,
      authenticator,
      // Every RPC passes its policy (auth/insights.policy.ts) before its handler runs.
      services: [{ definition: analyticsV1.InsightsServiceService, policies: INSIGHTS_POLICY, implementation: insights.implementation() }],
      health: { probe: () => prisma.ping(), intervalMs: DB_PROBE_MS },
    });
  }

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.server.port;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.server.start();
  }

  async onApplicationShutdown(): Promise<void> {
    // Live streams never finish on their own; end them so the graceful shutdown does not wait out its grace.
    this.streams.endAll();
    await this.server.stop();
  }
}

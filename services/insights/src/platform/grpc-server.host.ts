import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1, descriptorSetPath } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, grpcTransportFromEnv } from '@tessera/grpc';
import { type CallerAuthenticator, guardService } from '@tessera/auth';
import { createLogger } from '@tessera/telemetry';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { INSIGHTS_POLICY } from '../auth/insights.policy';
import { type InsightsConfig, INSIGHTS_CONFIG } from '../config';
import { InsightsGrpc } from '../insights.grpc';
import { StreamAggregatesGrpc } from '../live/stream-aggregates.grpc';
import { PrismaService } from './prisma.provider';

const INSIGHTS_SERVICE = 'tessera.analytics.v1.InsightsService';
const DB_PROBE_MS = 5_000;

/** Hosts the gRPC server; InsightsService is SERVING only while its read model's database answers. */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('GrpcServerHost');
  private handle?: GrpcServerHandle;
  private probe?: NodeJS.Timeout;

  constructor(
    @Inject(INSIGHTS_CONFIG) private readonly config: InsightsConfig,
    private readonly insights: InsightsGrpc,
    private readonly streams: StreamAggregatesGrpc,
    private readonly prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) private readonly authenticator: CallerAuthenticator,
  ) {}

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.handle?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await createGrpcServer({
      port: this.config.INSIGHTS_GRPC_PORT,
      host: this.config.INSIGHTS_GRPC_HOST,
      descriptorSetPath,
      transport: grpcTransportFromEnv('insights'), // mTLS as insights (or the explicit plaintext dev mode); throws with the fix when certs are missing
      logger: this.logger,
      services: [
        {
          definition: analyticsV1.InsightsServiceService,
          // Every RPC passes its policy (auth/insights.policy.ts) before its handler runs.
          implementation: guardService(analyticsV1.InsightsServiceService, INSIGHTS_POLICY, this.insights.implementation(), this.authenticator, this.logger),
        },
      ],
    });
    await this.refreshDatabaseHealth();
    this.probe = setInterval(() => void this.refreshDatabaseHealth(), DB_PROBE_MS);
    this.probe.unref();
    this.logger.info({ port: this.handle.port }, 'insights gRPC listening');
  }

  private async refreshDatabaseHealth(): Promise<void> {
    const up = await this.prisma.ping();
    this.handle?.health.setStatus(INSIGHTS_SERVICE, up ? 'SERVING' : 'NOT_SERVING');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.probe);
    // Live streams never finish on their own; end them so the graceful shutdown does not wait out its grace.
    this.streams.endAll();
    await this.handle?.shutdown();
  }
}

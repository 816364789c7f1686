import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1, descriptorSetPath } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, grpcTransportFromEnv, serviceNameOf } from '@tessera/grpc';
import { type CallerAuthenticator, guardService } from '@tessera/auth';
import { createLogger } from '@tessera/telemetry';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { INGEST_POLICY } from '../auth/ingest.policy';
import { type IngestConfig, INGEST_CONFIG } from '../config';
import { IngestGrpc } from '../ingest/ingest.grpc';
import { KafkaLink } from '../publishing/kafka.link';

/**
 * Hosts the gRPC server. IngestService reports SERVING only while Kafka (and the raw topic) is reachable:
 * without it nothing can be acknowledged, so balancers and the gateway should route elsewhere or back off.
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('GrpcServerHost');
  private handle?: GrpcServerHandle;

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly ingest: IngestGrpc,
    private readonly link: KafkaLink,
    @Inject(CALLER_AUTHENTICATOR) private readonly authenticator: CallerAuthenticator,
  ) {}

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.handle?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await createGrpcServer({
      port: this.config.INGEST_GRPC_PORT,
      host: this.config.INGEST_GRPC_HOST,
      descriptorSetPath,
      transport: grpcTransportFromEnv('ingest'), // mTLS as ingest (or the explicit plaintext dev mode); throws with the fix when certs are missing
      logger: this.logger,
      services: [
        {
          definition: analyticsV1.IngestServiceService,
          // Every RPC passes its policy (auth/ingest.policy.ts) before its handler runs.
          implementation: guardService(analyticsV1.IngestServiceService, INGEST_POLICY, this.ingest.implementation(), this.authenticator, this.logger),
        },
      ],
    });
    this.applyHealth(this.link.isUp);
    this.link.onChange((up) => this.applyHealth(up));
    this.logger.info({ port: this.handle.port, kafkaUp: this.link.isUp }, 'ingest gRPC listening');
  }

  private applyHealth(up: boolean): void {
    const status = up ? 'SERVING' : 'NOT_SERVING';
    this.handle?.health.setStatus('', status);
    this.handle?.health.setStatus(serviceNameOf(analyticsV1.IngestServiceService), status);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.handle?.shutdown();
  }
}

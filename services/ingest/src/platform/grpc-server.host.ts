import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { analyticsV1 } from '@tessera/contracts';
import { serviceNameOf } from '@tessera/grpc';
import { type CallerAuthenticator, GuardedGrpcServer } from '@tessera/auth';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { INGEST_POLICY } from '../auth/ingest.policy';
import { type IngestConfig, INGEST_CONFIG } from '../config';
import { IngestGrpc } from '../ingest/ingest.grpc';
import { KafkaLink } from '../publishing/kafka.link';

/**
 * Hosts the gRPC server (@tessera/auth `GuardedGrpcServer`). IngestService (and the overall status) reports SERVING
 * only while Kafka (and the raw topic) is reachable: without it nothing can be acknowledged, so balancers and the
 * gateway should route elsewhere or back off.
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: GuardedGrpcServer;

  constructor(
    @Inject(INGEST_CONFIG) config: IngestConfig,
    ingest: IngestGrpc,
    link: KafkaLink,
    @Inject(CALLER_AUTHENTICATOR) authenticator: CallerAuthenticator,
  ) {
    this.server = new GuardedGrpcServer({
      name: 'ingest',
      port: config.INGEST_GRPC_PORT,
      host: config.INGEST_GRPC_HOST,
      authenticator,
      // Every RPC passes its policy (auth/ingest.policy.ts) before its handler runs.
      services: [{ definition: analyticsV1.IngestServiceService, policies: INGEST_POLICY, implementation: ingest.implementation() }],
      health: {
        services: ['', serviceNameOf(analyticsV1.IngestServiceService)],
        watch: (onChange) => {
          link.onChange(onChange);
          return link.isUp;
        },
      },
    });
  }

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.server.port;
  }

  onApplicationBootstrap(): Promise<void> {
    return this.server.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }
}

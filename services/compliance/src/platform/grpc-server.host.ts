import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { complianceV1 } from '@tessera/contracts';
import { unaryService } from '@tessera/grpc';
import { type CallerAuthenticator, GuardedGrpcServer } from '@tessera/auth';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { COMPLIANCE_POLICY } from '../auth/compliance.policy';
import { ComplianceGrpc } from '../compliance.grpc';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { PrismaService } from './prisma.provider';

const DB_PROBE_MS = 5_000;

/**
 * Hosts the gRPC server (@tessera/auth `GuardedGrpcServer`). ComplianceService reports SERVING only while Postgres
 * answers: screening without its decision log would be unaudited, so callers should see it as down (they fail closed).
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly server: GuardedGrpcServer;

  constructor(
    @Inject(COMPLIANCE_CONFIG) config: ComplianceConfig,
    compliance: ComplianceGrpc,
    prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) authenticator: CallerAuthenticator,
  ) {
    this.server = new GuardedGrpcServer({
      name: 'compliance',
      port: config.COMPLIANCE_GRPC_PORT,
      host: config.COMPLIANCE_GRPC_HOST,
      authenticator,
      // Every RPC passes its policy (auth/compliance.policy.ts) before its handler runs.
      services: [
        {
          definition: complianceV1.ComplianceServiceService,
          policies: COMPLIANCE_POLICY,
          implementation: unaryService(complianceV1.ComplianceServiceService, compliance.implementation()),
        },
      ],
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

  onApplicationShutdown(): Promise<void> {
    return this.server.stop();
  }
}

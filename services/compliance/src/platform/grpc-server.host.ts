import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { complianceV1, descriptorSetPath } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, grpcTransportFromEnv, unaryService } from '@tessera/grpc';
import { type CallerAuthenticator, guardService } from '@tessera/auth';
import { createLogger } from '@tessera/telemetry';
import { CALLER_AUTHENTICATOR } from '../auth/auth.provider';
import { COMPLIANCE_POLICY } from '../auth/compliance.policy';
import { ComplianceGrpc } from '../compliance.grpc';
import { type ComplianceConfig, COMPLIANCE_CONFIG } from '../config';
import { PrismaService } from './prisma.provider';

const COMPLIANCE_SERVICE = 'tessera.compliance.v1.ComplianceService';
const DB_PROBE_MS = 5_000;

/**
 * Hosts the gRPC server. ComplianceService reports SERVING only while Postgres answers: screening without
 * its decision log would be unaudited, so callers should see it as down (they fail closed).
 */
@Injectable()
export class GrpcServerHost implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = createLogger('GrpcServerHost');
  private handle?: GrpcServerHandle;
  private probe?: NodeJS.Timeout;

  constructor(
    @Inject(COMPLIANCE_CONFIG) private readonly config: ComplianceConfig,
    private readonly compliance: ComplianceGrpc,
    private readonly prisma: PrismaService,
    @Inject(CALLER_AUTHENTICATOR) private readonly authenticator: CallerAuthenticator,
  ) {}

  /** The bound port (tests bind port 0). */
  get port(): number | undefined {
    return this.handle?.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await createGrpcServer({
      port: this.config.COMPLIANCE_GRPC_PORT,
      host: this.config.COMPLIANCE_GRPC_HOST,
      descriptorSetPath,
      transport: grpcTransportFromEnv('compliance'), // mTLS as compliance (or the explicit plaintext dev mode); throws with the fix when certs are missing
      logger: this.logger,
      services: [
        {
          definition: complianceV1.ComplianceServiceService,
          // Every RPC passes its policy (auth/compliance.policy.ts) before its handler runs.
          implementation: guardService(
            complianceV1.ComplianceServiceService,
            COMPLIANCE_POLICY,
            unaryService(complianceV1.ComplianceServiceService, this.compliance.implementation()),
            this.authenticator,
            this.logger,
          ),
        },
      ],
    });
    await this.refreshDatabaseHealth();
    this.probe = setInterval(() => void this.refreshDatabaseHealth(), DB_PROBE_MS);
    this.probe.unref();
    this.logger.info({ port: this.handle.port }, 'compliance gRPC listening');
  }

  private async refreshDatabaseHealth(): Promise<void> {
    const up = await this.prisma.ping();
    this.handle?.health.setStatus(COMPLIANCE_SERVICE, up ? 'SERVING' : 'NOT_SERVING');
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.probe);
    await this.handle?.shutdown();
  }
}

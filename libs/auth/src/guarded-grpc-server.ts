import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { descriptorSetPath } from '@tessera/contracts';
import { createGrpcServer, type GrpcServerHandle, grpcTransportFromEnv, serviceNameOf } from '@tessera/grpc';
import { createLogger, type Logger } from '@tessera/telemetry';
import type { CallerAuthenticator } from './caller';
import { guardService, type MethodPolicy } from './grpc-guard';

/** One service on the server: its definition, the policy of every method, and the handlers. */
export interface GuardedService {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- grpc-js's own definition type is untyped by design
  definition: ServiceDefinition<any>;
  policies: Readonly<Record<string, MethodPolicy>>;
  implementation: UntypedServiceImplementation;
}

/**
 * When the services report SERVING: `probe` polled every `intervalMs` (a database ping), or `watch` told of every
 * change (a Kafka link). `services` are the health names set (default: every registered service; `''` is the overall).
 */
export type ServingHealth =
  | { probe: () => Promise<boolean>; intervalMs: number; services?: string[] }
  | { watch: (onChange: (up: boolean) => void) => boolean; services?: string[] };

export interface GuardedGrpcServerOptions {
  /** The service's name: its mTLS identity (grpcTransportFromEnv) and its log lines. */
  name: string;
  port: number;
  host: string;
  authenticator: CallerAuthenticator;
  services: GuardedService[];
  health?: ServingHealth;
  logger?: Logger;
}

/**
 * A service's gRPC server as every Tessera service runs it (issue #16: the host class was copied into four services):
 * mTLS as the service (or the explicit plaintext dev mode), reflection, the standard health service, every method
 * behind its authorisation policy (`guardService`), and health following a dependency (`health`). A Nest
 * `GrpcServerHost` builds one, then calls `start` on bootstrap and `stop` on shutdown.
 */
export class GuardedGrpcServer {
  private readonly logger: Logger;
  private handle?: GrpcServerHandle;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: GuardedGrpcServerOptions) {
    this.logger = options.logger ?? createLogger('GrpcServerHost');
  }

  /** The bound port (tests bind port 0); undefined before `start`. */
  get port(): number | undefined {
    return this.handle?.port;
  }

  async start(): Promise<void> {
    const { name, authenticator, health } = this.options;
    this.handle = await createGrpcServer({
      port: this.options.port,
      host: this.options.host,
      descriptorSetPath,
      transport: grpcTransportFromEnv(name), // throws with the fix when the certificates are missing
      logger: this.logger,
      // Every RPC passes its policy before its handler runs.
      services: this.options.services.map((s) => ({
        definition: s.definition,
        implementation: guardService(s.definition, s.policies, s.implementation, authenticator, this.logger),
      })),
    });
    if (health) {
      const names = health.services ?? this.options.services.map((s) => serviceNameOf(s.definition));
      const set = (up: boolean) => {
        for (const n of names) this.handle?.health.setStatus(n, up ? 'SERVING' : 'NOT_SERVING');
      };
      if ('watch' in health) set(health.watch(set));
      else {
        set(await health.probe());
        this.timer = setInterval(() => void health.probe().then(set), health.intervalMs);
        this.timer.unref();
      }
    }
    this.logger.info({ port: this.handle.port }, `${name} gRPC listening`);
  }

  /** NOT_SERVING first, then in-flight calls finish (GrpcServerHandle.shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.handle?.shutdown();
  }
}

import {
  type Client,
  makeGenericClientConstructor,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { HealthImplementation, service as healthService } from 'grpc-health-check';
import { createGrpcClient } from './client';

/** A health server on a free loopback port answering `status` for the whole server: which server answered is visible. */
async function serve(status: 'SERVING' | 'NOT_SERVING'): Promise<{ port: number; server: Server }> {
  const server = new Server();
  new HealthImplementation({ '': status }).addToServer(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  );
  return { port, server };
}

type HealthClient = Client & {
  Check(request: { service: string }, callback: (error: ServiceError | null, response: { status: unknown }) => void): void;
};

describe('client load balancing', () => {
  it('spreads calls over every address the target resolves to (round_robin), not only the first (pick_first)', async () => {
    const [a, b] = [await serve('SERVING'), await serve('NOT_SERVING')];
    const Ctor = makeGenericClientConstructor(healthService as unknown as ServiceDefinition, 'grpc.health.v1.Health');
    // Two addresses for one target, as a Kubernetes headless Service resolves to every ready pod.
    const client = createGrpcClient(Ctor as never, `ipv4:127.0.0.1:${a.port},127.0.0.1:${b.port}`, {
      retry: 'none',
      forwardAuth: false,
    }) as HealthClient;
    try {
      await new Promise<void>((resolve, reject) => client.waitForReady(Date.now() + 5_000, (e) => (e ? reject(e) : resolve())));
      const answers: string[] = [];
      for (let i = 0; i < 20; i++) {
        answers.push(
          await new Promise<string>((resolve, reject) =>
            client.Check({ service: '' }, (error, response) => (error ? reject(error) : resolve(String(response.status)))),
          ),
        );
      }
      // Both servers answered, about evenly (round_robin alternates over READY connections).
      const counts = new Map<string, number>();
      for (const s of answers) counts.set(s, (counts.get(s) ?? 0) + 1);
      expect(counts.size).toBe(2);
      expect(Math.min(...counts.values())).toBeGreaterThanOrEqual(5);
    } finally {
      client.close();
      a.server.forceShutdown();
      b.server.forceShutdown();
    }
  });
});

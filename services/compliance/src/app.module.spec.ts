import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { startTestAuth, type TestAuth } from '@tessera/auth';
import { AppModule } from './app.module';
import { complianceConfigSchema } from './config';
import { GrpcServerHost } from './platform/grpc-server.host';

/**
 * The module's wiring: every provider resolves (`compile` runs the constructors only: nothing connects, no lifecycle
 * hook runs), so a provider a refactor forgot fails here instead of first in an integration test.
 */
describe('AppModule', () => {
  let auth: TestAuth;

  beforeAll(async () => {
    auth = await startTestAuth();
  });

  afterAll(() => auth.close());

  it('resolves every provider', async () => {
    const config = complianceConfigSchema.parse({ ...auth.env, COMPLIANCE_DATABASE_URL: 'postgresql://wiring:test@127.0.0.1:9/none' });
    const module = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    expect(module.get(GrpcServerHost)).toBeInstanceOf(GrpcServerHost);
  });
});

import 'reflect-metadata';
import { describeModuleWiring } from '@tessera/testing';
import { AppModule } from './app.module';
import { insightsConfigSchema } from './config';
import { GrpcServerHost } from './platform/grpc-server.host';

// Every provider resolves (constructors only): a provider a refactor forgot fails here, not first in an integration test.
describeModuleWiring(
  (authEnv) =>
    AppModule.forRoot(insightsConfigSchema.parse({ ...authEnv, INSIGHTS_DATABASE_URL: 'postgresql://wiring:test@127.0.0.1:9/none' })),
  GrpcServerHost,
);

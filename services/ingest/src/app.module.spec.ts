import 'reflect-metadata';
import { describeModuleWiring } from '@tessera/testing';
import { AppModule } from './app.module';
import { ingestConfigSchema } from './config';
import { GrpcServerHost } from './platform/grpc-server.host';

// Every provider resolves (constructors only): a provider a refactor forgot fails here, not first in an integration test.
describeModuleWiring((authEnv) => AppModule.forRoot(ingestConfigSchema.parse({ ...authEnv })), GrpcServerHost);

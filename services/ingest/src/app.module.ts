import { type DynamicModule, Module } from '@nestjs/common';
import { callerAuthenticatorProvider } from './auth/auth.provider';
import { type IngestConfig, INGEST_CONFIG } from './config';
import { IngestEventsHandler } from './ingest/ingest-events.handler';
import { IngestGrpc } from './ingest/ingest.grpc';
import { GrpcServerHost } from './platform/grpc-server.host';
import { KafkaLink } from './publishing/kafka.link';
import { RawEventPublisher } from './publishing/raw-event.publisher';

@Module({})
export class AppModule {
  static forRoot(config: IngestConfig): DynamicModule {
    return {
      module: AppModule,
      providers: [
        { provide: INGEST_CONFIG, useValue: config },
        callerAuthenticatorProvider,
        KafkaLink,
        RawEventPublisher,
        IngestEventsHandler,
        IngestGrpc,
        GrpcServerHost,
      ],
    };
  }
}

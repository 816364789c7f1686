import { type DynamicModule, Module } from '@nestjs/common';
import { ApiKeyRegistry } from '@tessera/auth';
import { type IngestConfig, INGEST_CONFIG } from './config';
import { IngestEventsHandler } from './ingest/ingest-events.handler';
import { API_KEYS, IngestGrpc } from './ingest/ingest.grpc';
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
        { provide: API_KEYS, useValue: ApiKeyRegistry.forEnvironment(config.INGEST_API_KEYS, config.NODE_ENV) },
        KafkaLink,
        RawEventPublisher,
        IngestEventsHandler,
        IngestGrpc,
        GrpcServerHost,
      ],
    };
  }
}

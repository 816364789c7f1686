import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { type GatewayConfig, GATEWAY_CONFIG } from './config';
import { ProblemFilter } from './http/problem.filter';
import { PeersModule } from './peers/peers.module';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { AccountsController } from './accounts/accounts.controller';
import { PingsController } from './pings/pings.controller';

@Module({})
export class AppModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [PeersModule.forRoot(config)],
      controllers: [HealthController, AccountsController, PingsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        HealthService,
      ],
    };
  }
}

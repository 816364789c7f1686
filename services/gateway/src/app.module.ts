import { type DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AuthGuard, AUTHENTICATORS, type Authenticators } from './auth/auth.guard';
import { RateLimiter } from './rate-limit/rate-limiter';
import { type GatewayConfig, GATEWAY_CONFIG } from './config';
import { ProblemFilter } from './http/problem.filter';
import { PeersModule } from './peers/peers.module';
import { HealthController } from './health/health.controller';
import { HealthService } from './health/health.service';
import { AccountsController } from './accounts/accounts.controller';
import { PingsController } from './pings/pings.controller';
import { TransfersController } from './transfers/transfers.controller';
import { HoldsController } from './holds/holds.controller';
import { AlertsController } from './compliance/alerts.controller';
import { AuditController } from './audit/audit.controller';
import { EventsController } from './events/events.controller';
import { InsightsController } from './insights/insights.controller';
import { LiveController } from './live/live.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { ConsoleAssetsController } from './console/console-assets.controller';
import { ConsumerLagService } from './console/consumer-lag.service';
import { OpsController } from './console/ops.controller';

/** Every controller; the OpenAPI test checks each of their routes is documented. */
export const CONTROLLERS = [
  HealthController,
  OpenApiController,
  AccountsController,
  TransfersController,
  HoldsController,
  AlertsController,
  AuditController,
  PingsController,
  EventsController,
  InsightsController,
  LiveController,
  OpsController,
];

@Module({})
export class AppModule {
  /** `auth` verifies bearer tokens and API keys (`authFromEnv` from @tessera/auth in main.ts; a temp dev issuer in tests). */
  static forRoot(config: GatewayConfig, auth: Authenticators): DynamicModule {
    return {
      module: AppModule,
      imports: [PeersModule.forRoot(config)],
      // The console's static files are not REST resources, so they stay out of CONTROLLERS (and the OpenAPI document).
      controllers: [...CONTROLLERS, ConsoleAssetsController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: AUTHENTICATORS, useValue: auth },
        // Global: a route is authenticated unless it says @Public(), so a forgotten decorator fails closed.
        { provide: APP_GUARD, useClass: AuthGuard },
        RateLimiter,
        HealthService,
        ConsumerLagService,
      ],
    };
  }
}

import { Controller, Get } from '@nestjs/common';
import type { ConsumerLagReport } from './consumer-lag';
import { ConsumerLagService } from './consumer-lag.service';
import { RequireScopes } from '../auth/auth.decorators';

/** Operational read-outs for the console (operators: ops:read); no tenant data, so no tenant check. */
@Controller('v1/ops')
export class OpsController {
  constructor(private readonly lag: ConsumerLagService) {}

  @Get('consumer-lag')
  @RequireScopes('ops:read')
  consumerLag(): Promise<ConsumerLagReport> {
    return this.lag.report();
  }
}

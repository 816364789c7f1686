import { Controller, Get } from '@nestjs/common';
import type { ConsumerLagReport } from './consumer-lag';
import { ConsumerLagService } from './consumer-lag.service';

/** Operational read-outs for the console; like /health, no tenant data, so no tenant key. */
@Controller('v1/ops')
export class OpsController {
  constructor(private readonly lag: ConsumerLagService) {}

  @Get('consumer-lag')
  consumerLag(): Promise<ConsumerLagReport> {
    return this.lag.report();
  }
}

import { Inject, Injectable } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { type IngestConfig, INGEST_CONFIG } from '../config';
import { type Rejection, validateEvent, type ValidationLimits } from '../events/event-validator';
import { batchTooLarge } from '../events/ingest.errors';
import { RawEventPublisher } from '../publishing/raw-event.publisher';
import { IngestMetrics } from './ingest.metrics';

export interface IngestResult {
  accepted: number;
  rejections: Rejection[];
}

/**
 * One batch: validate every event, publish the valid ones in one produce request, report the rest per event.
 * A publish failure throws (UNAVAILABLE) and then no event of the batch counts as accepted.
 */
@Injectable()
export class IngestEventsHandler {
  private readonly limits: ValidationLimits;
  private readonly metrics = new IngestMetrics();

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly publisher: RawEventPublisher,
  ) {
    this.limits = {
      maxEventAgeMs: config.INGEST_MAX_EVENT_AGE_MS,
      maxFutureSkewMs: config.INGEST_MAX_FUTURE_SKEW_MS,
      maxAttributes: config.INGEST_MAX_ATTRIBUTES,
      maxAttributesBytes: config.INGEST_MAX_ATTRIBUTES_BYTES,
      ...(config.INGEST_EVENT_TYPES ? { eventTypes: config.INGEST_EVENT_TYPES } : {}),
    };
  }

  /** `firstIndex` offsets rejection indexes so a stream reports positions in the whole stream. */
  async execute(tenantId: string, events: analyticsV1.AnalyticsEvent[], firstIndex = 0): Promise<IngestResult> {
    if (events.length > this.config.INGEST_MAX_BATCH_EVENTS) throw batchTooLarge(events.length, this.config.INGEST_MAX_BATCH_EVENTS);
    const now = new Date();
    const valid: analyticsV1.AnalyticsEvent[] = [];
    const rejections: Rejection[] = [];
    events.forEach((event, i) => {
      const rejection = validateEvent(event, firstIndex + i, tenantId, now, this.limits);
      if (rejection) rejections.push(rejection);
      else valid.push(event);
    });
    await this.publisher.publish(valid);
    this.metrics.record(valid.length, rejections);
    return { accepted: valid.length, rejections };
  }
}

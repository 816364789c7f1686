import { Metadata, type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { requireTenant, principalOf } from '@tessera/auth';
import { toGrpcStatus } from '@tessera/errors';
import { createLogger } from '@tessera/telemetry';
import { aggregateToProto } from '../aggregates/aggregate.codec';
import { invalidRequest } from '../aggregates/insights.errors';
import { AggregateFeed } from './aggregate-feed';

type Call = ServerWritableStream<analyticsV1.StreamAggregatesRequest, analyticsV1.StreamAggregatesResponse>;

/**
 * InsightsService.StreamAggregates: every aggregate revision this instance stores that matches the request,
 * until the client cancels. Writes respect gRPC flow control (a full write buffer pauses the pump until
 * 'drain'); meanwhile updates wait in the subscriber's bounded queue, which drops the oldest when full.
 */
@Injectable()
export class StreamAggregatesGrpc {
  private readonly logger = createLogger('StreamAggregatesGrpc');
  private readonly calls = new Set<Call>();

  constructor(private readonly feed: AggregateFeed) {}

  /** Open streams (for tests and diagnostics). */
  get openStreams(): number {
    return this.calls.size;
  }

  handler(): handleServerStreamingCall<analyticsV1.StreamAggregatesRequest, analyticsV1.StreamAggregatesResponse> {
    return (call) => this.serve(call);
  }

  /** Ends every open stream with OK, so a graceful server shutdown is not held up by live subscribers. */
  endAll(): void {
    for (const call of [...this.calls]) call.end();
  }

  private serve(call: Call): void {
    const { tenantId, streamId, metric } = call.request;
    if (!tenantId) {
      call.emit('error', toGrpcStatus(invalidRequest([{ field: 'tenant_id', description: 'required' }])));
      return;
    }
    try {
      // The CallGuard admitted the credential (auth/insights.policy.ts); it may only watch its own tenant.
      requireTenant(principalOf(call), tenantId);
    } catch (error) {
      call.emit('error', toGrpcStatus(error));
      return;
    }
    const subscription = this.feed.subscribe({ tenantId, ...(streamId ? { streamId } : {}), ...(metric ? { metric } : {}) });
    this.calls.add(call);
    let waitingForDrain = false;

    const pump = (): void => {
      while (subscription.isOpen && !waitingForDrain) {
        const next = subscription.take();
        if (!next) return;
        if (!call.write({ aggregate: aggregateToProto(next) })) {
          waitingForDrain = true;
          call.once('drain', () => {
            waitingForDrain = false;
            pump();
          });
        }
      }
    };
    subscription.onAvailable(pump);

    let finished = false;
    const finish = (reason: string) => {
      if (finished) return;
      finished = true;
      this.calls.delete(call);
      if (subscription.dropped > 0)
        this.logger.warn({ tenantId, dropped: subscription.dropped, reason }, 'slow subscriber: updates were dropped');
      subscription.close();
    };
    call.on('cancelled', () => finish('cancelled'));
    call.on('finish', () => finish('ended'));
    call.on('close', () => finish('closed'));
    call.on('error', () => finish('error'));
    // Headers now, so the client knows the subscription is live before the first update.
    call.sendMetadata(new Metadata());
  }
}

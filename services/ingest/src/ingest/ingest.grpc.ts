import type { sendUnaryData, ServerReadableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { Inject, Injectable } from '@nestjs/common';
import type { analyticsV1 } from '@tessera/contracts';
import { isAppError, toGrpcStatus } from '@tessera/errors';
import { wrapUnary } from '@tessera/grpc';
import { createLogger } from '@tessera/telemetry';
import { principalOf } from '@tessera/auth';
import { ingestTenantOf } from '../auth/ingest.policy';
import { type IngestConfig, INGEST_CONFIG } from '../config';
import type { Rejection } from '../events/event-validator';
import { IngestEventsHandler } from './ingest-events.handler';

/** IngestStreamResponse.rejections is capped (rejected_count stays exact). */
export const MAX_STREAM_REJECTIONS = 1000;

/**
 * gRPC face of ingest: hands batches to {@link IngestEventsHandler} for the tenant of the credential the CallGuard
 * verified (auth/ingest.policy.ts).
 */
@Injectable()
export class IngestGrpc {
  private readonly logger = createLogger('IngestGrpc');

  constructor(
    @Inject(INGEST_CONFIG) private readonly config: IngestConfig,
    private readonly ingest: IngestEventsHandler,
  ) {}

  implementation(): UntypedServiceImplementation {
    return {
      ingestBatch: wrapUnary<analyticsV1.IngestBatchRequest, analyticsV1.IngestBatchResponse>(
        async (req, ctx) => {
          const tenantId = ingestTenantOf(principalOf(ctx));
          return this.ingest.execute(tenantId, req.events);
        },
        { logger: this.logger },
      ),
      ingestStream: (
        call: ServerReadableStream<analyticsV1.IngestStreamRequest, analyticsV1.IngestStreamResponse>,
        callback: sendUnaryData<analyticsV1.IngestStreamResponse>,
      ) => this.stream(call, callback),
    };
  }

  /**
   * Client streaming with bounded in-flight batches: each message is validated and published as it arrives,
   * and the stream is paused (HTTP/2 flow control pushes back on the client) while
   * INGEST_STREAM_MAX_IN_FLIGHT batches wait for the broker. The first failure ends the call with its status;
   * the summary is sent only after every accepted event was acknowledged.
   */
  private stream(
    call: ServerReadableStream<analyticsV1.IngestStreamRequest, analyticsV1.IngestStreamResponse>,
    callback: sendUnaryData<analyticsV1.IngestStreamResponse>,
  ): void {
    let tenantId: string;
    try {
      tenantId = ingestTenantOf(principalOf(call));
    } catch (error) {
      callback(toGrpcStatus(error), null);
      return;
    }
    const maxInFlight = this.config.INGEST_STREAM_MAX_IN_FLIGHT;
    let nextIndex = 0;
    let accepted = 0;
    let rejectedCount = 0;
    const rejections: Rejection[] = [];
    let inFlight = 0;
    let paused = false;
    let ended = false;
    let done = false;

    const finish = (error?: unknown): void => {
      if (done) return;
      done = true;
      if (error === undefined) {
        callback(null, { accepted: BigInt(accepted), rejections, rejectedCount: BigInt(rejectedCount) });
        return;
      }
      if (!isAppError(error) || error.kind === 'INTERNAL') this.logger.error({ err: error }, 'ingest stream failed');
      callback(toGrpcStatus(error), null);
    };

    call.on('data', (message: analyticsV1.IngestStreamRequest) => {
      if (done) return;
      const firstIndex = nextIndex;
      nextIndex += message.events.length;
      inFlight += 1;
      if (inFlight >= maxInFlight && !paused) {
        paused = true;
        call.pause();
      }
      this.ingest
        .execute(tenantId, message.events, firstIndex)
        .then(
          (result) => {
            accepted += result.accepted;
            rejectedCount += result.rejections.length;
            for (const r of result.rejections) if (rejections.length < MAX_STREAM_REJECTIONS) rejections.push(r);
          },
          (error: unknown) => finish(error),
        )
        .finally(() => {
          inFlight -= 1;
          if (paused && inFlight < maxInFlight && !done) {
            paused = false;
            call.resume();
          }
          if (ended && inFlight === 0) finish();
        });
    });
    call.on('end', () => {
      ended = true;
      if (inFlight === 0) finish();
    });
    call.on('error', (error) => {
      // The client went away; nothing can be answered.
      done = true;
      this.logger.info({ err: error }, 'ingest stream aborted by the client');
    });
  }
}

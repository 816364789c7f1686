import { Metadata } from '@grpc/grpc-js';
import { analyticsV1 } from '@tessera/contracts';
import { type AppError, isAppError } from '@tessera/errors';
import { createGrpcClient, grpcTransportFromEnv, unaryCall } from '@tessera/grpc';
import type { GeneratedEvent, WireEvent } from './generate';
import { DeliveryError } from './http.sink';
import { type ApiKeys, type EventSink, parseRetryAfter, type SendResult, type SinkListener, sleep } from './sink';

export interface GrpcSinkOptions {
  /** ingest's gRPC address, e.g. 127.0.0.1:50053. */
  addr: string;
  keys: ApiKeys;
  maxAttempts?: number;
  backoffMs?: number;
  deadlineMs?: number;
  signal?: AbortSignal;
}

/** The JSON event as the protobuf message; a malformed value (e.g. "NaN") stays malformed (NaN). */
export function toProtoEvent(event: WireEvent): analyticsV1.AnalyticsEvent {
  const time = new Date(event.occurredAt);
  return {
    tenantId: event.tenantId,
    streamId: event.streamId,
    eventId: event.eventId,
    eventType: event.eventType,
    occurredAt: Number.isNaN(time.getTime()) ? undefined : time,
    value: typeof event.value === 'number' ? event.value : Number(event.value),
    attributes: { ...event.attributes },
  };
}

/** ingest's UNAVAILABLE carries the advised wait in ErrorInfo metadata (the gateway turns it into Retry-After). */
export function retryAfterOf(err: AppError): number | undefined {
  return parseRetryAfter(err.metadata['retryAfterSeconds']);
}

/**
 * `IngestService.IngestBatch` straight to ingest (no gateway), with the tenant's key in `x-api-key` metadata.
 * UNAVAILABLE / RESOURCE_EXHAUSTED are back-pressure: the same batch is retried after the advised wait.
 */
export class GrpcSink implements EventSink {
  readonly name = 'grpc';
  private readonly client: analyticsV1.IngestServiceClient;

  constructor(private readonly options: GrpcSinkOptions) {
    this.client = createGrpcClient(analyticsV1.IngestServiceClient, options.addr, {
      defaultDeadlineMs: options.deadlineMs ?? 10_000,
      // The runner retries whole batches itself, honouring the server's advised wait.
      retry: 'none',
      forwardAuth: false,
      transport: grpcTransportFromEnv('loadgen'), // client certificate `loadgen` from .tessera/tls (or TESSERA_TLS_DIR)
    });
  }

  async send(tenant: string, batch: GeneratedEvent[], listener?: SinkListener): Promise<SendResult> {
    const { keys, maxAttempts = 20, backoffMs = 500, signal } = this.options;
    const metadata = new Metadata();
    const key = keys.for(tenant);
    if (key) metadata.set('x-api-key', key);
    const request: analyticsV1.IngestBatchRequest = { events: batch.map((g) => toProtoEvent(g.event)) };
    let backoff = backoffMs;
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await unaryCall(this.client, 'ingestBatch', request, { metadata });
        return {
          accepted: res.accepted,
          rejections: res.rejections.map((r) => ({ index: r.index, eventId: r.eventId, code: r.code, reason: r.reason })),
        };
      } catch (err) {
        const retryable =
          isAppError(err) && (err.kind === 'UNAVAILABLE' || err.kind === 'RESOURCE_EXHAUSTED' || err.kind === 'DEADLINE_EXCEEDED');
        if (!retryable || signal?.aborted || attempt >= maxAttempts) {
          throw new DeliveryError(`IngestBatch to ${this.options.addr} failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        const wait = retryAfterOf(err) ?? backoff;
        listener?.onRetry?.(err.kind, wait);
        await sleep(wait, signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

import { InterceptingCall, ServerInterceptingCall, status as GrpcStatus, type Interceptor, type ServerInterceptor } from '@grpc/grpc-js';
import { metrics, type Attributes, type Histogram, type Meter } from '@opentelemetry/api';

export const RPC_SERVER_DURATION = 'rpc.server.duration';
export const RPC_CLIENT_DURATION = 'rpc.client.duration';
const METER_NAME = '@tessera/grpc';

/**
 * The semconv RPC attributes of one finished call. Only the service and method names from the
 * path and the numeric status: no peer, no ids, so the series count stays services x methods x codes.
 */
export function rpcMetricAttributes(path: string, code: number): Attributes {
  const [, service = 'unknown', method = 'unknown'] = path.split('/');
  return { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, 'rpc.grpc.status_code': code };
}

function durationHistogram(meter: Meter, name: string, side: string): Histogram {
  return meter.createHistogram(name, { description: `Duration of ${side} gRPC calls, until the status`, unit: 'ms' });
}

/**
 * Records `rpc.server.duration` (ms) for every call a server handles, from arrival to the status it
 * sends. @opentelemetry/instrumentation-grpc records spans only, so RED metrics come from here.
 * A call the client cancels (or whose deadline passes) before a status is sent counts as CANCELLED.
 * The meter defaults to the global provider's, resolved now (after `startTelemetry`), not at import.
 */
export function metricsServerInterceptor(meter: Meter = metrics.getMeter(METER_NAME)): ServerInterceptor {
  const histogram = durationHistogram(meter, RPC_SERVER_DURATION, 'served');
  return (methodDescriptor, call) => {
    const started = performance.now();
    let recorded = false;
    const record = (code: number) => {
      if (recorded) return;
      recorded = true;
      histogram.record(performance.now() - started, rpcMetricAttributes(methodDescriptor.path, code));
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => record(GrpcStatus.CANCELLED) }),
      sendStatus: (status, next) => {
        record(status.code);
        next(status);
      },
    });
  };
}

/**
 * Records `rpc.client.duration` (ms) for every call made through the client, from start to the
 * status received, retries included (the interceptor sits above the channel's retry logic), so it
 * measures what the caller waited. Failures the client produces itself (deadline, unreachable
 * peer) carry their status code like any other.
 */
export function metricsClientInterceptor(meter: Meter = metrics.getMeter(METER_NAME)): Interceptor {
  const histogram = durationHistogram(meter, RPC_CLIENT_DURATION, 'outgoing');
  return (options, nextCall) => {
    const path = options.method_definition.path;
    return new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        const started = performance.now();
        next(metadata, {
          onReceiveStatus: (status, nextStatus) => {
            histogram.record(performance.now() - started, rpcMetricAttributes(path, status.code));
            nextStatus(status);
          },
        });
      },
    });
  };
}

/**
 * Components of this process that failed for good: a Kafka consumer that kafkajs stopped and will not restart
 * (a non-retriable error, e.g. a batch it cannot decompress), so the service would otherwise look healthy while
 * doing nothing. `@tessera/kafka` reports such failures; `@tessera/grpc` turns every server of the process to
 * NOT_SERVING (the gateway's /health, `npm run infra -- status` and a Kubernetes probe then show it), and the
 * service keeps running so its logs, metrics and the failure stay inspectable. A restart is the way out, after
 * the cause is fixed.
 *
 * Process-wide on purpose: the reporter (a consumer) and the health owner (a gRPC server) know nothing of each
 * other, and "this process is broken" is a property of the process.
 */
export interface ComponentFailure {
  component: string;
  error: Error;
  at: Date;
}

type Listener = (failure: ComponentFailure) => void;

const failures = new Map<string, ComponentFailure>();
const listeners = new Set<Listener>();

/** Records that `component` stopped for good and tells every listener (once per component). */
export function reportComponentFailure(component: string, error: Error): void {
  if (failures.has(component)) return;
  const failure = { component, error, at: new Date() };
  failures.set(component, failure);
  for (const listener of listeners) listener(failure);
}

/** Calls `listener` for every failure so far and every later one; returns the unsubscribe function. */
export function onComponentFailure(listener: Listener): () => void {
  listeners.add(listener);
  for (const failure of failures.values()) listener(failure);
  return () => listeners.delete(listener);
}

export function componentFailures(): ComponentFailure[] {
  return [...failures.values()];
}

/** For tests that share one process. */
export function clearComponentFailures(): void {
  failures.clear();
}

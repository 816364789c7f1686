import type { AggregateView } from './aggregate-store';

export type FeedState = 'connecting' | 'live' | 'reconnecting' | 'closed' | 'error';

/**
 * One tenant's `GET /v1/live/aggregates` EventSource. EventSource reconnects by itself after the server's
 * `retry:`; an `error` event from the gateway (upstream failure) is reported and the browser reconnects.
 */
export function openLiveFeed(
  url: string,
  onAggregate: (a: AggregateView) => void,
  onState: (s: FeedState, detail?: string) => void,
): () => void {
  onState('connecting');
  const source = new EventSource(url);
  source.addEventListener('open', () => onState('live'));
  source.addEventListener('aggregate', (e) => {
    try {
      onAggregate(JSON.parse((e as MessageEvent<string>).data) as AggregateView);
    } catch {
      onState('error', 'unreadable aggregate');
    }
  });
  // Named `error` events carry the gateway's problem; plain transport errors have no data.
  source.addEventListener('error', (e) => {
    const data = (e as MessageEvent<string | undefined>).data;
    if (data) {
      const problem = JSON.parse(data) as { code?: string; message?: string };
      onState('error', `${problem.code ?? 'error'}: ${problem.message ?? ''}`);
    } else {
      // CLOSED: the gateway refused the stream (bad key, insights down); EventSource will not retry.
      onState(source.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting');
    }
  });
  return () => source.close();
}

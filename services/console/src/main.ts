import { AggregateStore, type AggregateView } from './aggregate-store';
import { api, ApiError, type ConsoleConfig, useBearerToken } from './api';
import { LineChart } from './chart';
import { byId, fillTable, h } from './dom';
import { formatCount, formatMinor, formatPercent, formatTime } from './format';
import { type FeedState, openLiveFeed } from './live-feed';
import { fragmentWithoutToken, looksLikeJwt, secondsLeft, takeApiKey, takeToken, TOKEN_STORAGE_KEY } from './token';
import { newTraceparent, TRACE_LINK_HINT, type TraceLink, traceLink, traceUrl } from './trace-link';
import { transferRows } from './transfers-panel';

/** What the chart plots: tumbling 10 s windows, totals (no dimension). */
const CHART = { windowSizeSeconds: 10, dimensionKey: '' } as const;
const MINUTE = { windowSizeSeconds: 60, dimensionKey: '' } as const;
const KEEP_MS = 30 * 60_000;

interface Settings extends ConsoleConfig {
  apiKey: string | null;
  paymentsApiKey: string | null;
}

/**
 * The gateway's defaults, tenants overridden by `?tenant=&paymentsTenant=`; the tenants' API keys from the address
 * fragment `#apiKey=&paymentsKey=` (as `npm run up` prints it) or this tab's session storage: never from the server,
 * never in a query string (which servers and proxies log). `keys` is read before the fragment is cleared.
 */
async function loadSettings(keys: { apiKey: string | null; paymentsApiKey: string | null }): Promise<Settings> {
  const config = await api.config();
  const params = new URLSearchParams(location.search);
  return {
    ...config,
    tenantId: params.get('tenant') ?? config.tenantId,
    paymentsTenantId: params.get('paymentsTenant') ?? config.paymentsTenantId,
    ...keys,
  };
}

/** The same trace cell in every panel: a link to the trace UI, or "–" with the reason as its tooltip. */
function traceCell(template: string | null, item: { traceId?: string | null }): HTMLTableCellElement {
  return traceLinkCell(traceLink(template, item));
}

function traceLinkCell(link: TraceLink): HTMLTableCellElement {
  if ('href' in link) return h('td', {}, h('a', { href: link.href, target: '_blank', rel: 'noopener', title: TRACE_LINK_HINT }, 'trace ↗'));
  return h('td', { class: 'muted', title: link.reason }, '–');
}

function setState(el: HTMLElement, state: FeedState, detail?: string): void {
  el.dataset['state'] = state;
  el.textContent = state;
  el.title = detail ?? '';
}

/** Analytics of the console's tenant: the live chart, stats, per-country table and recent revisions. */
function startAnalytics(s: Settings): void {
  const store = new AggregateStore();
  const chart = new LineChart(byId('events-chart'), 'events');
  let dirty = true;
  const onAggregate = (a: AggregateView) => {
    if (store.apply(a)) dirty = true;
  };
  const render = () => {
    if (!dirty) return;
    dirty = false;
    store.prune(Date.now() - KEEP_MS);
    const series = store.series(CHART);
    chart.update(series);
    const total = store.total(CHART);
    byId('events-chart').dataset['events'] = String(total);
    byId('stat-events').textContent = formatCount(total);
    const minutes = store.select(MINUTE).filter((a) => a.final || a.windowEnd === null || Date.parse(a.windowEnd) < Date.now());
    const lastMinute = minutes.reduce<AggregateView | undefined>(
      (best, a) => (!best || (a.windowStart ?? '') > (best.windowStart ?? '') ? a : best),
      undefined,
    );
    const sameWindow = minutes.filter((a) => a.windowStart === lastMinute?.windowStart);
    byId('stat-users').textContent = sameWindow.length ? formatCount(Math.max(...sameWindow.map((a) => a.distinctCount))) : '–';
    const pageViews = sameWindow.find((a) => a.metric === 'page.view');
    byId('stat-p95').textContent = pageViews ? formatCount(pageViews.p95) : '–';
    byId('stat-late').textContent = formatCount(store.select(CHART).reduce((n, a) => n + a.lateEvents, 0));
    fillTable(
      byId('countries'),
      store
        .latestByDimension('purchase', 'country', 60)
        .map((a) => [a.dimensionValue, formatCount(a.count), formatMinor(a.sum), formatMinor(a.p95)]),
      'no purchases yet',
    );
    fillTable(
      byId('recent'),
      store
        .recent(12)
        .map((a) => [
          a.metric,
          a.dimensionKey ? `${a.dimensionKey}=${a.dimensionValue}` : 'total',
          `${formatTime(a.windowStart)} ${a.windowSizeSeconds}s${a.windowSlideSeconds !== a.windowSizeSeconds ? `/${a.windowSlideSeconds}s` : ''}`,
          formatCount(a.count),
          `${a.revision}${a.final ? ' final' : ''}`,
          traceCell(s.traceUrlTemplate, a),
        ]),
      'waiting for aggregates…',
    );
  };
  setInterval(render, 500);

  const state = byId('feed-state');
  const apiKey = s.apiKey;
  if (!apiKey) {
    setState(state, 'closed', 'no API key: open /console#apiKey=<key of this tenant> (npm run up prints the link)');
    return;
  }
  // Backfill first so a fresh page shows the last minutes; live revisions replace older ones by revision.
  api
    .aggregates(s.tenantId, apiKey, 10, new Date(Date.now() - 15 * 60_000).toISOString())
    .then(({ items }) => items.forEach(onAggregate))
    .catch(() => undefined);
  api
    .aggregates(s.tenantId, apiKey, 60, new Date(Date.now() - 15 * 60_000).toISOString())
    .then(({ items }) => items.forEach(onAggregate))
    .catch(() => undefined);
  openLiveFeed(api.liveUrl(s.tenantId, apiKey), onAggregate, (st, detail) => setState(state, st, detail));

  const button = byId<HTMLButtonElement>('send-test');
  button.addEventListener('click', () => void sendTestEvents(s, apiKey));
}

/** Twenty page views with a traceparent the console made, so the result links to the batch's trace. */
async function sendTestEvents(s: Settings, apiKey: string): Promise<void> {
  const out = byId('send-result');
  const { traceId, traceparent } = newTraceparent((n) => crypto.getRandomValues(new Uint8Array(n)));
  const now = new Date().toISOString();
  const events = Array.from({ length: 20 }, (_, i) => ({
    tenantId: s.tenantId,
    streamId: 'web',
    eventId: `console-${traceId.slice(0, 12)}-${i}`,
    eventType: 'page.view',
    occurredAt: now,
    value: 200 + i * 10,
    attributes: { user_id: `console-${i % 5}`, country: 'US', plan: 'free', path: '/console' },
  }));
  try {
    const r = await api.sendEvents(apiKey, traceparent, events);
    const url = traceUrl(s.traceUrlTemplate, traceId);
    out.replaceChildren(
      `${r.accepted} accepted, ${r.rejected} rejected `,
      url ? h('a', { href: url, target: '_blank', rel: 'noopener' }, 'trace ↗') : `(trace ${traceId})`,
    );
  } catch (err) {
    out.textContent = err instanceof ApiError ? `${err.status} ${err.code}` : String(err);
  }
}

/** Live payment metrics: the processor's aggregates of payments.transfer.events.v1 under tenant "payments". */
function startPayments(s: Settings): void {
  byId('payments-tenant').textContent = s.paymentsTenantId;
  const state = byId('payments-state');
  const key = s.paymentsApiKey;
  if (!key) {
    setState(state, 'closed', 'open /console#paymentsKey=<key of the payments tenant> to follow payment metrics');
    fillTable(byId('payments'), [], `needs the ${s.paymentsTenantId} tenant's key: add #paymentsKey=… to the address`);
    return;
  }
  const store = new AggregateStore();
  const chart = new LineChart(byId('payments-chart'), 'transfers');
  let dirty = true;
  const onAggregate = (a: AggregateView) => {
    if (store.apply(a)) dirty = true;
  };
  setInterval(() => {
    if (!dirty) return;
    dirty = false;
    store.prune(Date.now() - KEEP_MS);
    const series = store.series(CHART);
    chart.update({ x: series.x, lines: series.lines.filter((l) => l.metric === 'transfer.count') });
    const counts = store.latestByDimension('transfer.count', 'currency', 60);
    const value = new Map(store.latestByDimension('transfer.value', 'currency', 60).map((a) => [a.dimensionValue, a]));
    const declined = new Map(store.latestByDimension('transfer.declined', 'currency', 60).map((a) => [a.dimensionValue, a]));
    fillTable(
      byId('payments'),
      counts.map((c) => {
        const d = declined.get(c.dimensionValue)?.count ?? 0;
        return [
          c.dimensionValue,
          formatCount(c.count),
          formatMinor(value.get(c.dimensionValue)?.sum ?? 0),
          formatCount(d),
          formatPercent(c.count ? d / c.count : NaN),
        ];
      }),
      'no transfers in the latest minute',
    );
  }, 1000);
  api
    .aggregates(s.paymentsTenantId, key, 10, new Date(Date.now() - 15 * 60_000).toISOString())
    .then(({ items }) => items.forEach(onAggregate))
    .catch(() => undefined);
  api
    .aggregates(s.paymentsTenantId, key, 60, new Date(Date.now() - 15 * 60_000).toISOString())
    .then(({ items }) => items.forEach(onAggregate))
    .catch(() => undefined);
  openLiveFeed(api.liveUrl(s.paymentsTenantId, key), onAggregate, (st, detail) => setState(state, st, detail));
}

/** Polls a panel; a failing source shows its problem code instead of stale rows. */
function poll(everyMs: number, run: () => Promise<void>, note: HTMLElement): void {
  const tick = () =>
    run()
      .then(() => (note.textContent = `updated ${new Date().toISOString().slice(11, 19)}`))
      .catch((err: unknown) => {
        note.textContent = err instanceof ApiError ? `unavailable: ${err.code}` : 'unavailable';
        if (err instanceof ApiError && err.status === 401) showTokenForm(`the gateway refused the token (${err.code}): paste a fresh one`);
      })
      .finally(() => setTimeout(tick, everyMs));
  void tick();
}

function startAlerts(s: Settings): void {
  poll(
    s.refreshMs,
    async () => {
      const { items } = await api.alerts();
      fillTable(
        byId('alerts'),
        items.map((a) => [
          h('td', { class: `sev-${a.severity}` }, a.severity),
          h('td', { title: a.reasons.map((r) => r.description).join('; ') }, a.ruleId),
          a.status,
          h('td', { title: a.accountId }, a.accountId.slice(0, 8)),
          formatTime(a.createdAt),
          traceCell(s.traceUrlTemplate, a),
        ]),
        'no alerts',
      );
    },
    byId('alerts-note'),
  );
}

/** The latest transfers (staff token), each linked to the trace of the request that created it. */
function startTransfers(s: Settings): void {
  poll(
    s.refreshMs,
    async () => {
      const { items } = await api.transfers();
      fillTable(
        byId('transfers'),
        transferRows(items, s.traceUrlTemplate).map((r) => [
          h('td', { title: r.id }, r.shortId),
          h('td', { class: `status-${r.status}`, title: r.kind }, r.status),
          r.amount,
          r.created,
          traceLinkCell(r.trace),
        ]),
        'no transfers',
      );
    },
    byId('transfers-note'),
  );
}

function startLag(s: Settings): void {
  poll(
    s.refreshMs,
    async () => {
      const { groups } = await api.consumerLag();
      const max = Math.max(1, ...groups.map((g) => g.lag));
      fillTable(
        byId('lag'),
        groups.flatMap((g) =>
          (g.topics.length ? g.topics : [{ topic: '–', lag: 0, partitions: [] }]).map((t) => [
            g.groupId,
            `${g.state}${g.members ? ` (${g.members})` : ''}`,
            t.topic,
            h('td', {}, formatCount(t.lag), h('span', { class: 'lagbar', style: `width:${Math.round((36 * t.lag) / max)}px` })),
          ]),
        ),
        'no consumer groups',
      );
    },
    byId('lag-note'),
  );
}

/** The "paste a token" field: shown when the page has no token, or the gateway said it is invalid or expired. */
function showTokenForm(reason: string): void {
  const form = byId<HTMLFormElement>('token-form');
  byId('token-reason').textContent = reason;
  form.hidden = false;
}

/** Bearer token for staff routes (`#token=`, printed by `npm run up`, else this tab's session storage, else ask) and the tenants' API keys; clears them from the address. */
function setUpToken(): { apiKey: string | null; paymentsApiKey: string | null } {
  const token = takeToken(location.hash, sessionStorage);
  const keys = {
    apiKey: takeApiKey(location.hash, 'apiKey', sessionStorage),
    paymentsApiKey: takeApiKey(location.hash, 'paymentsKey', sessionStorage),
  };
  history.replaceState(null, '', `${location.pathname}${location.search}${fragmentWithoutToken(location.hash)}`);
  useBearerToken(token);
  const left = token ? secondsLeft(token, Date.now()) : null;
  if (!token) showTokenForm('no token: alerts, transfers and consumer lag need one (npm run auth -- token --sub you --role operator)');
  else if (left !== null && left <= 0) showTokenForm('the token has expired: paste a fresh one');
  byId<HTMLFormElement>('token-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const value = byId<HTMLInputElement>('token-input')
      .value.trim()
      .replace(/^Bearer\s+/i, '');
    if (!looksLikeJwt(value)) {
      byId('token-reason').textContent = 'that is not a JWT (three base64url parts separated by dots)';
      return;
    }
    sessionStorage.setItem(TOKEN_STORAGE_KEY, value);
    location.reload();
  });
  return keys;
}

async function start(): Promise<void> {
  const keys = setUpToken();
  const s = await loadSettings(keys);
  byId('tenant').textContent = s.tenantId;
  byId('trace-note').textContent = s.traceUrlTemplate
    ? `Trace links open ${s.traceUrlTemplate}. An aggregate links to the processor step that emitted it (that span links to the contributing events), an alert to the step that raised it, a transfer to the request that created it; test batches sent from here link to their own trace.`
    : 'No trace UI configured: set TESSERA_TRACE_URL on the gateway (npm run up sets http://127.0.0.1:9411/zipkin/traces/{traceId}, Zipkin).';
  startAnalytics(s);
  startPayments(s);
  startAlerts(s);
  startTransfers(s);
  startLag(s);
}

start().catch((err: unknown) => {
  document.body.prepend(h('p', { class: 'card' }, `The console could not start: ${String(err)}`));
});

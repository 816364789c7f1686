package processor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/metrics"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"
)

// Stats are running totals, for logs and tests.
type Stats struct {
	Transactions, Aborts                              int64
	Events, Duplicates, TooLate, DeadLetters, Emitted int64
	// Forwarded: payment events copied to the repartition topic; Skipped: payment events not copied (no metrics).
	Forwarded, Skipped int64
}

// topicPartition names an input partition.
type topicPartition struct {
	topic     string
	partition int32
}

// Processor runs the read-process-write loop.
type Processor struct {
	cfg     *config.Config
	log     *slog.Logger
	metrics *metrics.Metrics
	sess    *kgo.GroupTransactSession
	admin   *kadm.Client
	tracer  trace.Tracer
	now     func() time.Time
	// layout maps stateful input partitions to changelog partitions; stores are keyed by changelog partition.
	layout stateLayout
	stores map[int32]*window.Store // only touched by the Run goroutine

	mu    sync.Mutex
	owned map[topicPartition]bool // stateful input partitions, updated by the group callbacks
	stats Stats
}

// New connects the transactional group session (nothing is consumed until Run). Committed batches
// and consumer lag are recorded in m (served by main on the metrics port); spans go to tp (nil: the
// global provider, a no-op one unless main installed the SDK).
func New(cfg *config.Config, log *slog.Logger, m *metrics.Metrics, tp trace.TracerProvider) (*Processor, error) {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	p := &Processor{cfg: cfg, log: log, metrics: m, tracer: newTracer(tp), now: time.Now, stores: map[int32]*window.Store{}, owned: map[topicPartition]bool{}}
	// Brokers, TLS and SASL from config.KafkaOpts; the lag monitor and the admin calls share this client.
	opts := append(cfg.KafkaOpts(),
		kgo.ClientID("stream-processor-go"),
		kgo.TransactionalID(cfg.TransactionalID),
		kgo.TransactionTimeout(30*time.Second),
		// Uncompressed batches, like the Node producers: franz-go would default to snappy, which kafkajs (insights and
		// every Node consumer) cannot decompress: its consumer stops on such a batch.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ConsumerGroup(cfg.GroupID),
		kgo.ConsumeTopics(cfg.InputTopics()...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.RequireStableFetchOffsets(),
		kgo.RecordPartitioner(partitioner{stateTopic: cfg.StateTopic, manual: kgo.ManualPartitioner(), keyed: kgo.StickyKeyPartitioner(nil)}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { p.setOwned(m, true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { p.setOwned(m, false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { p.setOwned(m, false) }),
	)
	if log.Enabled(context.Background(), slog.LevelDebug) {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)))
	}
	// The payments copy's topic exists before the group session does: a topic created after the consumer subscribed is
	// only assigned once the client refreshes its metadata and the group rebalances, which left the copies unread for a
	// while under load.
	if cfg.PaymentsTopic != "" {
		if err := ensureRepartitionTopicWith(cfg); err != nil {
			return nil, err
		}
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka session: %w", err)
	}
	p.sess = sess
	p.admin = kadm.NewClient(sess.Client())
	return p, nil
}

// setOwned records the stateful partitions of an assignment change (the payments source holds no state).
func (p *Processor) setOwned(assigned map[string][]int32, owned bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, topic := range p.cfg.StatefulTopics() {
		for _, part := range assigned[topic] {
			if owned {
				p.owned[topicPartition{topic, part}] = true
			} else {
				delete(p.owned, topicPartition{topic, part})
			}
		}
	}
}

// Stats returns a copy of the running totals.
func (p *Processor) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Run processes until ctx is cancelled, then ends the open transaction and leaves the group.
func (p *Processor) Run(ctx context.Context) error {
	defer p.sess.Close()
	layout, err := EnsureStateTopic(ctx, p.admin, p.cfg.StatefulTopics(), p.cfg.StateTopic)
	if err != nil {
		return err
	}
	p.layout = layout
	lagCtx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	go (&metrics.LagMonitor{Admin: p.admin, Group: p.cfg.GroupID, Topics: p.cfg.InputTopics(), Interval: p.cfg.LagRefresh, Metrics: p.metrics, Log: p.log}).Run(lagCtx)
	p.log.Info("consuming", "topics", p.cfg.InputTopics(), "group", p.cfg.GroupID, "stateTopic", p.cfg.StateTopic, "transactionalId", p.cfg.TransactionalID)
	for ctx.Err() == nil {
		pollCtx, cancel := context.WithTimeout(ctx, p.cfg.PollWait)
		fetches := p.sess.PollRecords(pollCtx, p.cfg.MaxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(t string, part int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				p.log.Warn("fetch error", "topic", t, "partition", part, "err", err)
			}
		})
		if ctx.Err() != nil {
			break // records of this poll were not processed; the next owner (or restart) reads them again
		}
		// Not cancellable: cancelling mid-transaction would leave the transactional client unusable.
		if err := p.cycle(context.WithoutCancel(ctx), fetches); err != nil {
			return err
		}
	}
	p.log.Info("stopped", "stats", fmt.Sprintf("%+v", p.Stats()))
	return nil
}

// cycle is one transaction: process the polled records, flush every partition's windows, commit
// outputs + state + offsets together. On abort the in-memory state is dropped and rebuilt from the
// changelog, and the session rewinds the consumer to the committed offsets.
func (p *Processor) cycle(ctx context.Context, fetches kgo.Fetches) error {
	// Partitions with records restore too, even if their assignment callback has not been seen yet:
	// skipping their records would commit offsets for events that were never aggregated.
	var polled []int32
	fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
		if part, ok := p.layout.statePartition(fp.Topic, fp.Partition); ok && len(fp.Records) > 0 { // poll timeouts come as partition -1 errors
			polled = append(polled, part)
		}
	})
	if err := p.syncStores(ctx, polled); err != nil {
		return err
	}
	if err := p.sess.Begin(); err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	now := p.now()
	out, st, batches, inputs, err := p.process(fetches.Records(), now)
	if err != nil {
		_, _ = p.sess.End(ctx, kgo.TryAbort)
		return err
	}
	aggs, emitted, pt, err := p.emit(ctx, now, inputs)
	if err != nil {
		pt.end(err)
		_, _ = p.sess.End(ctx, kgo.TryAbort)
		return err
	}
	out = append(out, aggs...)
	st.Emitted = emitted

	var (
		wg         sync.WaitGroup
		produceMu  sync.Mutex
		produceErr error
	)
	for _, rec := range out {
		wg.Add(1)
		p.sess.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				produceMu.Lock()
				produceErr = errors.Join(produceErr, err)
				produceMu.Unlock()
			}
		})
	}
	wg.Wait()
	committed, err := p.sess.End(ctx, kgo.TransactionEndTry(produceErr == nil))
	if err != nil {
		err = fmt.Errorf("end transaction: %w", err)
		pt.end(err)
		return err
	}
	switch {
	case committed:
		pt.end(nil)
	case produceErr != nil:
		pt.end(fmt.Errorf("transaction aborted: produce failed: %w", produceErr))
	default: // End aborts (and returns no error) when the group rebalanced during the poll
		pt.end(errAbortedByRebalance)
	}
	p.mu.Lock()
	p.stats.Transactions++
	if committed {
		p.stats.Events += st.Events
		p.stats.Duplicates += st.Duplicates
		p.stats.TooLate += st.TooLate
		p.stats.DeadLetters += st.DeadLetters
		p.stats.Emitted += st.Emitted
		p.stats.Forwarded += st.Forwarded
		p.stats.Skipped += st.Skipped
	} else {
		p.stats.Aborts++
	}
	p.mu.Unlock()
	if committed {
		for topic, batch := range batches {
			p.metrics.Committed(topic, p.cfg.GroupID, *batch)
		}
	} else {
		p.log.Warn("transaction aborted; rebuilding window state from the changelog", "produceErr", produceErr)
		clear(p.stores)
	}
	return nil
}

// errAbortedByRebalance is the batch spans' error when the session aborted a transaction on its own.
var errAbortedByRebalance = errors.New("transaction aborted: the group rebalanced during the poll")

// process runs the polled records through their partitions' window stores (payment events are first copied to the
// repartition topic, see payments.go) and returns the records to write (dead letters, copies), the running totals, the
// batch metrics per source topic (recorded only if the transaction commits) and, per changelog partition, the record
// count and the traceparents of its events (for the batch spans).
func (p *Processor) process(records []*kgo.Record, now time.Time) ([]*kgo.Record, Stats, map[string]*metrics.Batch, map[int32]*partitionInput, error) {
	var out []*kgo.Record
	var st Stats
	batches := map[string]*metrics.Batch{}
	inputs := map[int32]*partitionInput{}
	for _, r := range records {
		if p.cfg.PaymentsTopic != "" && r.Topic == p.cfg.PaymentsTopic {
			// In this transaction, so exactly once (the TS stage copies at least once and dedupes downstream).
			if isAggregatedPaymentEvent(r.Value) {
				out = append(out, &kgo.Record{Topic: p.cfg.PaymentsRepartitionTopic, Key: []byte(PaymentsRepartitionKey), Value: r.Value, Timestamp: r.Timestamp, Headers: r.Headers})
				st.Forwarded++
			} else {
				st.Skipped++
			}
			continue
		}
		part, ok := p.layout.statePartition(r.Topic, r.Partition)
		store := p.stores[part]
		if !ok || store == nil {
			return nil, st, nil, nil, fmt.Errorf("record of %s/%d, which has no window state here", r.Topic, r.Partition)
		}
		batch := batches[r.Topic]
		if batch == nil {
			batch = &metrics.Batch{DeadLetters: map[string]int64{}}
			batches[r.Topic] = batch
		}
		in := inputs[part]
		if in == nil {
			in = &partitionInput{}
			inputs[part] = in
		}
		in.records++
		var (
			ev             window.Event
			envTraceparent string
			rej            *Rejection
		)
		if r.Topic == p.cfg.RawTopic {
			ev, envTraceparent, rej = decodeTraced(r.Value)
			if rej == nil { // as the TS decoder: tenant metadata joins the attributes (dimensions may use it)
				ev.Attributes = enrich(p.cfg.TenantMetadata[ev.Tenant], ev.Attributes)
			}
		} else {
			var ignored bool
			if ev, envTraceparent, rej, ignored = decodePayment(r.Value); ignored {
				continue
			}
		}
		// Against the record's timestamp, as the TS stage (partition-state.ts): deterministic on replay, unlike the
		// wall clock this stage used before issue #15. One such event would drag the watermark ahead and close every
		// open window early.
		if rej == nil && ev.TimeMs > r.Timestamp.UnixMilli()+p.cfg.MaxFutureSkew.Milliseconds() {
			rej = reject(CodeFutureEventTime, "event time is more than %d ms after the record timestamp", p.cfg.MaxFutureSkew.Milliseconds())
		}
		if rej == nil {
			// Every decoded event contributes a link, duplicates and too-late ones too (Node: kind "event").
			if tp := recordTraceparent(r, envTraceparent); tp != "" {
				in.traceparents = append(in.traceparents, tp)
			}
			st.Events++
			switch outcome, late := store.Add(ev, now); outcome {
			case window.Duplicate:
				st.Duplicates++
				batch.Duplicates++
			case window.Late:
				st.TooLate++
				batch.Late++
				batch.Processed++
				rej = reject(CodeLate, "too late for %d window(s), first %s; watermark %s", late.Windows, late.First, time.UnixMilli(store.Watermark()).UTC().Format("2006-01-02T15:04:05.000Z"))
			default:
				batch.Processed++
			}
		}
		if rej != nil {
			st.DeadLetters++
			batch.DeadLetters[rej.Code]++
			if rej.Code != CodeLate {
				batch.Poison++
			}
			rec, err := deadLetterRecord(p.cfg.DLQTopic, p.cfg.GroupID, r, rej, now)
			if err != nil {
				return nil, st, nil, nil, err
			}
			out = append(out, rec)
		}
	}
	// Same meaning as the Node processor: processed = first-seen valid events (too-late ones included).
	return out, st, batches, inputs, nil
}

// enrich adds a tenant's metadata attributes to an event's, never overriding the event's own (the TS TenantMetadata).
func enrich(meta, attrs map[string]string) map[string]string {
	if len(meta) == 0 {
		return attrs
	}
	out := make(map[string]string, len(meta)+len(attrs))
	for k, v := range meta {
		out[k] = v
	}
	for k, v := range attrs {
		out[k] = v
	}
	return out
}

// emit flushes every partition's windows into aggregate and changelog records. Each partition that had
// records in this poll or emits aggregates gets an "aggregate window batch" span (and "window close"
// children for the windows it finalises), like one commit() of the Node processor; its aggregates carry
// the span's trace id (trace_id) and traceparent. The spans are returned open: they end with the transaction.
func (p *Processor) emit(ctx context.Context, now time.Time, inputs map[int32]*partitionInput) ([]*kgo.Record, int64, *pollTrace, error) {
	parts := make([]int32, 0, len(p.stores))
	for part := range p.stores {
		parts = append(parts, part)
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	var (
		out     []*kgo.Record
		emitted int64
	)
	pt := &pollTrace{}
	for _, part := range parts {
		flushed := p.stores[part].Flush(now)
		in := inputs[part]
		var fields map[string]string
		if (in != nil && in.records > 0) || len(flushed.Aggregates) > 0 {
			topic, partition := p.layout.source(part)
			spanCtx := pt.startBatch(ctx, p.tracer, topic, partition, in, len(flushed.Aggregates), flushed.Closed)
			fields = traceFields(spanCtx)
			traceID := traceIDOf(trace.SpanFromContext(spanCtx))
			for _, agg := range flushed.Aggregates {
				agg.TraceId = traceID
			}
		}
		for _, agg := range flushed.Aggregates {
			rec, err := aggregateRecord(p.cfg.AggregatesTopic, agg, fields)
			if err != nil {
				return nil, emitted, pt, err
			}
			out = append(out, rec)
		}
		emitted += int64(len(flushed.Aggregates))
		for _, s := range flushed.State {
			out = append(out, &kgo.Record{Topic: p.cfg.StateTopic, Partition: part, Key: []byte(s.Key), Value: s.Value})
		}
	}
	return out, emitted, pt, nil
}

// syncStores drops the state of partitions no longer owned and restores newly owned ones.
func (p *Processor) syncStores(ctx context.Context, polled []int32) error {
	p.mu.Lock()
	var missing []int32
	for part := range p.stores {
		if topic, partition := p.layout.source(part); !p.owned[topicPartition{topic, partition}] {
			delete(p.stores, part)
		}
	}
	want := map[int32]bool{}
	for tp := range p.owned {
		if part, ok := p.layout.statePartition(tp.topic, tp.partition); ok {
			want[part] = true
		}
	}
	for _, part := range polled {
		want[part] = true
	}
	for part := range want {
		if p.stores[part] == nil {
			missing = append(missing, part)
		}
	}
	p.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	t0 := time.Now()
	restored, err := restoreStores(ctx, p.cfg.KafkaOpts(), p.admin, p.cfg.StateTopic, missing, &p.cfg.Window, p.now())
	if err != nil {
		return fmt.Errorf("restoring window state: %w", err)
	}
	windows := 0
	done := p.now()
	for part, s := range restored {
		s.Restored(done)
		p.stores[part] = s
		windows += s.OpenWindows()
	}
	p.log.Info("window state restored", "partitions", missing, "windows", windows, "took", time.Since(t0).Round(time.Millisecond).String())
	return nil
}

package processor

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/metrics"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type expected struct {
	count         int64
	sum, min, max float64
	maxEventMs    int64 // newest event time aggregated (WindowAggregate.max_event_time)
}

// TestProcessorAgainstKafka runs against the real broker (KAFKA_BROKERS) with topics unique to the run:
// a first processor aggregates half the events and stops; a second one restores the window state from
// the changelog, skips a redelivered duplicate, dead-letters garbage, and its FINAL aggregates must
// equal the ones computed here from the same input, exactly.
func TestProcessorAgainstKafka(t *testing.T) {
	if os.Getenv("KAFKA_BROKERS") == "" {
		t.Skip("KAFKA_BROKERS not set: Kafka integration test skipped")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	run := fmt.Sprintf("spgo-it-%d", time.Now().UnixNano())
	raw, aggs, dlq, group := run+".raw", run+".aggregates", run+".dlq", run+".group"

	// The processor's settings are the test's; the connection (KAFKA_BROKERS, KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*,
	// KAFKA_TLS_* and their _FILE forms) comes from the environment, so CI runs this against an authenticating broker.
	cfg, err := config.Load(func(k string) (string, bool) {
		if strings.HasPrefix(k, "KAFKA_") {
			return os.LookupEnv(k)
		}
		v, ok := map[string]string{
			config.Prefix + "RAW_TOPIC": raw, config.Prefix + "AGGREGATES_TOPIC": aggs, config.Prefix + "DLQ_TOPIC": dlq, config.Prefix + "PAYMENTS_TOPIC": "none",
			config.Prefix + "GROUP_ID": group, config.Prefix + "TRANSACTIONAL_ID": run, config.Prefix + "WINDOWS": "10s,60s",
			config.Prefix + "DIMENSIONS": "country", config.Prefix + "ALLOWED_LATENESS": "2s", config.Prefix + "WATERMARK_DELAY": "1s",
			config.Prefix + "IDLE_TIMEOUT": "1h", config.Prefix + "POLL_WAIT": "300ms",
		}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}

	// The test's own clients connect as the processor does (config.KafkaOpts).
	admCl, err := kgo.NewClient(cfg.KafkaOpts()...)
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	for topic, parts := range map[string]int32{raw: 3, aggs: 1, dlq: 1} {
		if _, err := adm.CreateTopic(ctx, parts, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	}
	defer func() { _, _ = adm.DeleteTopics(context.Background(), raw, aggs, dlq, group+".state") }()

	// Events two hours ago on a minute boundary: all windows close as soon as the processor is idle.
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Minute)
	type input struct {
		tenant, id, country string
		offset              time.Duration
		value               float64
		traceparent         string // the producer span's context, as ingest sets it
	}
	var events []input
	for i := 0; i < 60; i++ {
		events = append(events, input{tenant: []string{"t1", "t2"}[i%2], id: fmt.Sprintf("ev-%d", i), country: []string{"DE", "FR", "US"}[i%3],
			offset: time.Duration(i) * 1500 * time.Millisecond, value: float64(i%7) - 1.5, traceparent: tp(7000 + i)})
	}
	want := map[string]*expected{}
	for _, e := range events {
		startMs := base.Add(e.offset).UnixMilli()
		for _, sz := range []int64{10, 60} {
			for _, dim := range [][2]string{{"", ""}, {"country", e.country}} {
				start := startMs - ((startMs%(sz*1000))+sz*1000)%(sz*1000)
				k := window.Key{Tenant: e.tenant, Stream: "web", Metric: "page.view", DimKey: dim[0], DimValue: dim[1], SizeSec: sz, SlideSec: sz, StartMs: start}.String()
				w := want[k]
				if w == nil {
					w = &expected{min: e.value, max: e.value}
					want[k] = w
				}
				w.count++
				w.sum += e.value
				w.min, w.max = min(w.min, e.value), max(w.max, e.value)
				w.maxEventMs = max(w.maxEventMs, startMs)
			}
		}
	}

	prod, err := kgo.NewClient(append(cfg.KafkaOpts(), kgo.DefaultProduceTopic(raw))...)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	record := func(e input) *kgo.Record {
		data, _ := proto.Marshal(&analyticsv1.AnalyticsEvent{TenantId: e.tenant, StreamId: "web", EventId: e.id, EventType: "page.view",
			OccurredAt: timestamppb.New(base.Add(e.offset)), Value: e.value, Attributes: map[string]string{"country": e.country, "user_id": "u-" + e.id}})
		value, _ := proto.Marshal(&commonv1.EventEnvelope{Id: e.id, Type: analyticsEventType, Source: "it", Subject: e.tenant + "/web", Data: data})
		return &kgo.Record{Key: []byte(e.tenant + "/web"), Value: value, Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte(e.traceparent)}}}
	}
	produce := func(recs ...*kgo.Record) {
		t.Helper()
		if err := prod.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	cfg.LagRefresh = 300 * time.Millisecond
	// One registry for both instances, served over HTTP as in production: the totals must add up across them.
	m := metrics.New()
	// One span recorder for both instances too: the committed batches' spans are checked against the output.
	spans := tracetest.NewSpanRecorder()
	tracerProvider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	metricsAddr := metrics.Serve(ctx, "127.0.0.1:0", m, nil, slog.New(slog.NewTextHandler(testLogOut(), nil)))
	if metricsAddr == "" {
		t.Fatal("metrics endpoint did not start")
	}
	start := func(c config.Config) (*Processor, context.CancelFunc, chan error) {
		p, err := New(&c, slog.New(slog.NewTextHandler(testLogOut(), nil)), m, tracerProvider)
		if err != nil {
			t.Fatal(err)
		}
		pctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(pctx); close(done) }()
		return p, stop, done
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(40 * time.Second); !cond(); time.Sleep(200 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	// Phase 1: half the events; idleness never closes windows, so state is mid-flight when it stops.
	half := len(events) / 2
	for _, e := range events[:half] {
		produce(record(e))
	}
	p1, stop1, done1 := start(*cfg)
	waitFor("phase 1 events", func() bool { failIfDone(t, done1); return p1.Stats().Events >= int64(half) })
	stop1()
	if err := <-done1; err != nil {
		t.Fatal(err)
	}

	// Phase 2: the rest, a redelivered phase-1 event and garbage; a new instance that closes idle windows.
	for _, e := range events[half:] {
		produce(record(e))
	}
	produce(record(events[0]), &kgo.Record{Key: []byte("t1/web"), Value: []byte("not protobuf")})
	cfg2 := *cfg
	// Idle after 5 s without records (counted from the end of its restore): long enough for a loaded CI box to
	// fetch phase 2 first, short enough to close the windows soon after.
	cfg2.Window.IdleTimeout = 5 * time.Second
	p2, stop2, done2 := start(cfg2)
	defer func() { stop2(); <-done2 }()
	waitFor("phase 2 events", func() bool {
		failIfDone(t, done2)
		s := p2.Stats()
		return s.Events+s.DeadLetters >= int64(len(events)-half+2)
	})
	if s := p2.Stats(); s.Duplicates != 1 || s.DeadLetters != 1 {
		t.Errorf("phase 2 stats: %+v", s)
	}

	// Read the committed aggregates until every expected window has a final revision.
	cons, err := kgo.NewClient(append(cfg.KafkaOpts(), kgo.ConsumeTopics(aggs, dlq),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	finals := map[string]*analyticsv1.WindowAggregate{}
	var deadLetters []*analyticsv1.DeadLetter
	lastRevision := map[string]int64{}
	aggTraceparents := map[string]bool{} // the traceparent every committed aggregate carries
	for len(finals) < len(want) || len(deadLetters) < 1 {
		failIfDone(t, done2)
		pollCtx, c := context.WithTimeout(ctx, 5*time.Second)
		fetches := cons.PollFetches(pollCtx)
		c()
		if ctx.Err() != nil {
			t.Fatalf("timed out: %d/%d final windows, %d dead letters", len(finals), len(want), len(deadLetters))
		}
		fetches.EachRecord(func(r *kgo.Record) {
			// kafkajs (insights and the other Node consumers) reads uncompressed and gzip batches only.
			if c := r.Attrs.CompressionType(); c != 0 && c != 1 {
				t.Fatalf("%s: batch compressed with codec %d, which kafkajs cannot decompress", r.Topic, c)
			}
			var env commonv1.EventEnvelope
			if err := proto.Unmarshal(r.Value, &env); err != nil {
				t.Fatalf("undecodable output on %s: %v", r.Topic, err)
			}
			if r.Topic == dlq {
				var dl analyticsv1.DeadLetter
				_ = proto.Unmarshal(env.Data, &dl)
				deadLetters = append(deadLetters, &dl)
				return
			}
			var agg analyticsv1.WindowAggregate
			if err := proto.Unmarshal(env.Data, &agg); err != nil {
				t.Fatal(err)
			}
			if env.Id != fmt.Sprintf("%s#%d", agg.WindowKey, agg.Revision) || string(r.Key) != agg.WindowKey || agg.Producer != "stream-processor-go" {
				t.Errorf("envelope id %q key %q producer %q", env.Id, r.Key, agg.Producer)
			}
			// Revisions only grow across both instances: the second continued the first's state.
			if agg.Revision <= lastRevision[agg.WindowKey] {
				t.Errorf("%s: revision %d after %d", agg.WindowKey, agg.Revision, lastRevision[agg.WindowKey])
			}
			lastRevision[agg.WindowKey] = agg.Revision
			// Tracing: trace_id = the batch span's trace, whose context is also the envelope's and header's traceparent.
			if h := header(r, "traceparent"); agg.TraceId == "" || h != env.Traceparent || !strings.HasPrefix(h, "00-"+agg.TraceId+"-") {
				t.Errorf("%s#%d: trace_id %q, header traceparent %q, envelope %q", agg.WindowKey, agg.Revision, agg.TraceId, h, env.Traceparent)
			}
			aggTraceparents[env.Traceparent] = true
			if agg.Final {
				finals[agg.WindowKey] = &agg
			}
		})
	}
	for k, w := range want {
		got := finals[k]
		gotMaxEventMs := got.GetMaxEventTime().AsTime().UnixMilli()
		if got.Count != w.count || got.Sum != w.sum || got.Min != w.min || got.Max != w.max || got.LateEvents != 0 || gotMaxEventMs != w.maxEventMs {
			t.Errorf("%s: got count %d sum %v min %v max %v late %d max event %d, want %+v", k, got.Count, got.Sum, got.Min, got.Max, got.LateEvents, gotMaxEventMs, *w)
		}
		if got.DistinctCount < 1 || got.DistinctCount > got.Count { // one user per event: HLL is exact at this size
			t.Errorf("%s: distinct %d for %d events", k, got.DistinctCount, got.Count)
		}
	}
	if len(finals) != len(want) {
		t.Errorf("final windows %d, want %d", len(finals), len(want))
	}
	if deadLetters[0].ReasonCode != CodeInvalidEnvelope || string(deadLetters[0].Payload) != "not protobuf" {
		t.Errorf("dead letter: %+v", deadLetters[0])
	}

	// Metrics count committed transactions only: every produced event exactly once across both instances.
	scope := `otel_scope_name="tessera.stream-processor-go",service_name="stream-processor-go"`
	wantScrape := fmt.Sprintf(`
# HELP tessera_pipeline_events_total Analytics events by pipeline stage and outcome
# TYPE tessera_pipeline_events_total counter
tessera_pipeline_events_total{%[1]s,tessera_pipeline_outcome="duplicate",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{%[1]s,tessera_pipeline_outcome="late",tessera_pipeline_stage="processor"} 0
tessera_pipeline_events_total{%[1]s,tessera_pipeline_outcome="poison",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{%[1]s,tessera_pipeline_outcome="processed",tessera_pipeline_stage="processor"} %[2]d
# HELP tessera_dlq_messages_total Messages written to a dead-letter topic
# TYPE tessera_dlq_messages_total counter
tessera_dlq_messages_total{error_type="ANALYTICS.INVALID_ENVELOPE",messaging_consumer_group_name="%[3]s",messaging_destination_name="%[4]s",%[1]s} 1
`, scope, len(events), group, raw)
	if err := testutil.ScrapeAndCompare("http://"+metricsAddr+"/metrics", strings.NewReader(wantScrape), metrics.PipelineEvents, metrics.DLQMessages); err != nil {
		t.Error(err)
	}
	// Spans of the committed batches (status OK; they end right after the commit, so wait for them): every
	// aggregate's traceparent is one of them, every produced event is linked from one (at most 16 events per
	// partition and poll here, under the cap of 32 links), and each final window had one "window close".
	var okBatches map[string]sdktrace.ReadOnlySpan
	var linked map[string]bool
	var closed, closeSpans int64
	waitFor("the batch spans of every aggregate", func() bool {
		okBatches, linked, closed, closeSpans = map[string]sdktrace.ReadOnlySpan{}, map[string]bool{}, 0, 0
		for _, s := range spans.Ended() {
			if s.Status().Code == codes.Error {
				continue
			}
			switch s.Name() {
			case BatchSpanName:
				sc := s.SpanContext()
				okBatches[fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())] = s
				for _, l := range s.Links() {
					linked[fmt.Sprintf("00-%s-%s-01", l.SpanContext.TraceID(), l.SpanContext.SpanID())] = true
				}
				a := attrs(s.Attributes())
				closed += a["tessera.windows.closed"].(int64) - a["tessera.windows.close_spans_dropped"].(int64)
			case WindowCloseSpanName:
				closeSpans++
			}
		}
		for tp := range aggTraceparents {
			if okBatches[tp] == nil {
				return false
			}
		}
		return true
	})
	for _, s := range okBatches {
		if s.SpanKind() != trace.SpanKindConsumer || attrs(s.Attributes())["messaging.destination.name"] != raw {
			t.Errorf("batch span kind %v attributes %v", s.SpanKind(), s.Attributes())
		}
	}
	for _, e := range events {
		if !linked[e.traceparent] {
			t.Errorf("event %s (traceparent %s) is linked from no committed batch span", e.id, e.traceparent)
		}
	}
	if closeSpans != closed || closeSpans != int64(len(want)) {
		t.Errorf("window close spans %d, batch spans say %d closed (final windows %d)", closeSpans, closed, len(want))
	}

	// Everything consumed and committed: lag 0 on each of the 3 raw partitions.
	waitFor("consumer lag 0 on every partition", func() bool {
		lags := scrapeLags(t, "http://"+metricsAddr+"/metrics", group)
		return len(lags) == 3 && lags["0"] == 0 && lags["1"] == 0 && lags["2"] == 0
	})
}

// scrapeLags returns messaging_kafka_consumer_lag of group by partition id, from a real scrape.
func scrapeLags(t *testing.T, url, group string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	lags := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, metrics.ConsumerLag+"{") || !strings.Contains(line, `messaging_consumer_group_name="`+group+`"`) {
			continue
		}
		_, part, _ := strings.Cut(line, `messaging_destination_partition_id="`)
		part, _, _ = strings.Cut(part, `"`)
		v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
		if err != nil {
			t.Fatalf("lag line %q: %v", line, err)
		}
		lags[part] = v
	}
	return lags
}

// testLogOut shows the processors' logs with SPGO_TEST_LOGS=1.
func testLogOut() io.Writer {
	if os.Getenv("SPGO_TEST_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}

// failIfDone fails at once when a processor stopped on its own (an error) instead of timing out later.
func failIfDone(t *testing.T, done chan error) {
	t.Helper()
	select {
	case err := <-done:
		t.Fatalf("processor stopped: %v", err)
	default:
	}
}

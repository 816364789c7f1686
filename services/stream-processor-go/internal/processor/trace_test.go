package processor

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// tp returns a W3C traceparent whose trace and span ids encode n.
func tp(n int) string { return fmt.Sprintf("00-%032x-%016x-01", 0xabc000+n, 0xdef000+n) }

func TestParseTraceparent(t *testing.T) {
	sc, ok := ParseTraceparent(" 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 ")
	if !ok || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sc.SpanID().String() != "00f067aa0ba902b7" || !sc.IsSampled() || !sc.IsRemote() {
		t.Fatalf("valid traceparent: %v %v", sc, ok)
	}
	if sc, ok := ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"); !ok || sc.IsSampled() {
		t.Errorf("unsampled traceparent: %v %v", sc, ok)
	}
	for _, bad := range []string{
		"",
		"garbage",
		"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff is invalid
		"00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero span id
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
		"00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",     // short trace id
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-ab", // extra field
	} {
		if sc, ok := ParseTraceparent(bad); ok || sc.IsValid() {
			t.Errorf("%q accepted: %v", bad, sc)
		}
	}
}

func linkIDs(links []trace.Link) []string {
	var ids []string
	for _, l := range links {
		ids = append(ids, l.SpanContext.TraceID().String()+"/"+l.SpanContext.SpanID().String())
	}
	return ids
}

func idOf(s string) string {
	sc, _ := ParseTraceparent(s)
	return sc.TraceID().String() + "/" + sc.SpanID().String()
}

// The LAST max distinct contexts, newest first; malformed ones ignored; dropped = distinct valid ones not linked.
func TestContributorLinks(t *testing.T) {
	links, dropped := ContributorLinks([]string{tp(1), "00-bad", tp(2), tp(1), tp(3), "", tp(4)}, 3)
	if want := []string{idOf(tp(4)), idOf(tp(3)), idOf(tp(1))}; !reflect.DeepEqual(linkIDs(links), want) || dropped != 1 {
		t.Errorf("links %v dropped %d; want %v dropped 1", linkIDs(links), dropped, want)
	}
	if links, dropped := ContributorLinks(nil, 3); len(links) != 0 || dropped != 0 {
		t.Errorf("no records: %v %d", links, dropped)
	}
}

// tracedEvent is a raw record of a valid event at `at` on partition, with the given headers and
// envelope traceparent field.
func tracedEvent(t *testing.T, partition int32, id string, at time.Time, headerTP, envelopeTP string) *kgo.Record {
	t.Helper()
	data, err := proto.Marshal(&analyticsv1.AnalyticsEvent{TenantId: "acme", StreamId: "web", EventId: id, EventType: "page.view",
		OccurredAt: timestamppb.New(at), Value: 1, Attributes: map[string]string{"country": "DE"}})
	if err != nil {
		t.Fatal(err)
	}
	value, err := proto.Marshal(&commonv1.EventEnvelope{Id: id, Type: analyticsEventType, Source: "ingest", Data: data, Traceparent: envelopeTP})
	if err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "analytics.events.raw.v1", Partition: partition, Key: []byte("acme/web"), Value: value, Timestamp: now}
	if headerTP != "" {
		r.Headers = []kgo.RecordHeader{{Key: "ce_id", Value: []byte(id)}, {Key: "traceparent", Value: []byte(headerTP)}}
	}
	return r
}

func tracedProcessor(t *testing.T, tracer trace.TracerProvider, partitions ...int32) *Processor {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"KAFKA_BROKERS": "x:1", config.Prefix + "WINDOWS": "10s"}[k]
		return v, ok
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Window.Dimensions = nil // total only: one window per event time
	p := &Processor{cfg: cfg, tracer: newTracer(tracer), now: func() time.Time { return now }, stores: map[int32]*window.Store{},
		layout: stateLayout{topics: []string{cfg.RawTopic}, counts: []int32{6}}}
	for _, part := range partitions {
		p.stores[part] = window.NewStore(&cfg.Window, now)
	}
	return p
}

func attrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func spansNamed(spans []sdktrace.ReadOnlySpan, name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range spans {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

// One poll through process + emit: the batch span of a partition (kind, attributes, links from the
// records' traceparents), its window close child, and the trace id / traceparent on the emitted aggregates.
func TestBatchSpanLinksWindowClosesAndAggregateTraceID(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	p := tracedProcessor(t, provider, 0, 1, 2)

	records := []*kgo.Record{
		// Partition 0. e1's 10 s window [now-60s, now-50s) is final once e2 moves the watermark to now-6s.
		tracedEvent(t, 0, "e1", now.Add(-time.Minute), tp(1), ""),
		tracedEvent(t, 0, "e2", now.Add(-time.Second), "00-not-a-traceparent", tp(9)), // malformed header: no link, no fallback
		tracedEvent(t, 0, "e3", now.Add(-2*time.Second), "", tp(3)),                   // no header: the envelope's field
		tracedEvent(t, 0, "e1", now.Add(-time.Minute), tp(4), ""),                     // a duplicate still contributed
		{Topic: "analytics.events.raw.v1", Partition: 0, Value: []byte("not protobuf"), Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte(tp(5))}}},
		tracedEvent(t, 0, "e6", now.Add(-3*time.Second), tp(1), ""), // same producer span as e1: one link
	}
	// Partition 1: more distinct contributors than the cap. Partition 2: no records, nothing to emit: no span.
	for i := 0; i < MaxContributorLinks+8; i++ {
		records = append(records, tracedEvent(t, 1, fmt.Sprintf("p1-%d", i), now.Add(-time.Second), tp(100+i), ""))
	}

	// A span in ctx must not become the parent: the batch span is a root with links.
	parentCtx, parent := provider.Tracer("test").Start(context.Background(), "outer")
	out, st, _, inputs, err := p.process(records, now)
	if err != nil || st.Events != 6+MaxContributorLinks+8-1 || st.DeadLetters != 1 {
		t.Fatalf("process: %v %+v", err, st)
	}
	aggRecords, emitted, pt, err := p.emit(parentCtx, now, inputs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.Ended()) != 0 {
		t.Fatal("spans ended before the transaction")
	}
	pt.end(nil)
	parent.End()

	batches := spansNamed(rec.Ended(), BatchSpanName)
	closes := spansNamed(rec.Ended(), WindowCloseSpanName)
	if len(batches) != 2 || len(closes) != 1 || len(rec.Ended()) != 4 {
		t.Fatalf("spans: %d batch, %d window close, %d total", len(batches), len(closes), len(rec.Ended()))
	}
	b0, b1 := batches[0], batches[1]
	if b0.SpanKind() != trace.SpanKindConsumer || b0.Parent().IsValid() || b0.SpanContext().TraceID() == parent.SpanContext().TraceID() {
		t.Errorf("batch span: kind %v parent %v", b0.SpanKind(), b0.Parent())
	}
	if b0.Status().Code != codes.Unset || b0.InstrumentationScope().Name != TracerName {
		t.Errorf("batch span status %v scope %q", b0.Status(), b0.InstrumentationScope().Name)
	}
	wantAttrs := map[string]any{
		"messaging.system": "kafka", "messaging.destination.name": "analytics.events.raw.v1", "messaging.destination.partition.id": "0",
		"messaging.batch.message_count": int64(6), "tessera.aggregates.emitted": int64(2), "tessera.links.dropped": int64(0),
		"tessera.windows.closed": int64(1), "tessera.windows.close_spans_dropped": int64(0),
	}
	if got := attrs(b0.Attributes()); !reflect.DeepEqual(got, wantAttrs) {
		t.Errorf("batch attributes\n got %v\nwant %v", got, wantAttrs)
	}
	var gotLinks []string
	for _, l := range b0.Links() {
		gotLinks = append(gotLinks, l.SpanContext.TraceID().String()+"/"+l.SpanContext.SpanID().String())
		if !l.SpanContext.IsRemote() {
			t.Errorf("link %v not remote", l.SpanContext)
		}
	}
	if want := []string{idOf(tp(1)), idOf(tp(4)), idOf(tp(3))}; !reflect.DeepEqual(gotLinks, want) {
		t.Errorf("links\n got %v\nwant %v", gotLinks, want)
	}

	// Partition 1: capped at 32 links, the newest contributor first, 8 dropped.
	a1 := attrs(b1.Attributes())
	if a1["messaging.destination.partition.id"] != "1" || a1["messaging.batch.message_count"] != int64(MaxContributorLinks+8) || a1["tessera.links.dropped"] != int64(8) ||
		len(b1.Links()) != MaxContributorLinks || b1.Links()[0].SpanContext.SpanID().String() != fmt.Sprintf("%016x", 0xdef000+100+MaxContributorLinks+7) {
		t.Errorf("partition 1 batch: attributes %v, %d links", a1, len(b1.Links()))
	}

	// The window close span: a child of partition 0's batch span, with the finalised window's attributes.
	c := closes[0]
	if c.Parent().SpanID() != b0.SpanContext().SpanID() || c.SpanContext().TraceID() != b0.SpanContext().TraceID() || c.SpanKind() != trace.SpanKindInternal {
		t.Errorf("window close parent %v, batch %v", c.Parent(), b0.SpanContext())
	}
	start := now.Add(-time.Minute)
	wantClose := map[string]any{
		"tessera.tenant": "acme", "tessera.window.stream": "web", "tessera.window.metric": "page.view", "tessera.window.dimension": "",
		"tessera.window.start": start.UTC().Format("2006-01-02T15:04:05.000Z"), "tessera.window.size_s": int64(10), "tessera.window.slide_s": int64(10),
		"tessera.window.revision": int64(1), "tessera.window.events": int64(1), "tessera.window.late_events": int64(0),
		"tessera.window.max_event_time": "2026-03-01T11:59:00.000Z",
	}
	if got := attrs(c.Attributes()); !reflect.DeepEqual(got, wantClose) {
		t.Errorf("window close attributes\n got %v\nwant %v", got, wantClose)
	}

	// Every aggregate: trace_id = its partition's batch span, envelope + header traceparent = that span.
	if emitted != 2+1 {
		t.Fatalf("emitted %d", emitted)
	}
	seen := 0
	for _, r := range aggRecords {
		if r.Topic != p.cfg.AggregatesTopic {
			continue
		}
		seen++
		var env commonv1.EventEnvelope
		var agg analyticsv1.WindowAggregate
		if proto.Unmarshal(r.Value, &env) != nil || proto.Unmarshal(env.Data, &agg) != nil {
			t.Fatal("undecodable aggregate record")
		}
		// Partition 0 emits the two acme windows of now-60s and now-10s; partition 1 the one of now-10s.
		span := b0
		if agg.Count == int64(MaxContributorLinks+8) {
			span = b1
		}
		sc := span.SpanContext()
		wantTP := fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID())
		if agg.TraceId != sc.TraceID().String() || env.Traceparent != wantTP || header(r, "traceparent") != wantTP {
			t.Errorf("aggregate %s (count %d): trace_id %q envelope %q header %q; want %s", agg.WindowKey, agg.Count, agg.TraceId, env.Traceparent, header(r, "traceparent"), wantTP)
		}
	}
	if seen != 3 {
		t.Errorf("%d aggregate records", seen)
	}
	// Dead letters carry no trace context (deadLetterMessage in Node).
	for _, r := range out {
		if r.Topic == p.cfg.DLQTopic && header(r, "traceparent") != "" {
			t.Errorf("dead letter with traceparent %q", header(r, "traceparent"))
		}
	}
}

func header(r *kgo.Record, key string) string {
	for _, h := range r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

// An aborted transaction fails every span of the poll: the batch span with the recorded exception, the
// window close spans with an ERROR status.
func TestAbortedTransactionMarksSpansFailed(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	p := tracedProcessor(t, sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)), 0)
	_, _, _, inputs, err := p.process([]*kgo.Record{
		tracedEvent(t, 0, "e1", now.Add(-time.Minute), tp(1), ""),
		tracedEvent(t, 0, "e2", now.Add(-time.Second), tp(2), ""),
	}, now)
	if err != nil {
		t.Fatal(err)
	}
	_, _, pt, err := p.emit(context.Background(), now, inputs)
	if err != nil {
		t.Fatal(err)
	}
	pt.end(fmt.Errorf("transaction aborted: produce failed: %w", errors.New("NOT_ENOUGH_REPLICAS")))

	batches, closes := spansNamed(rec.Ended(), BatchSpanName), spansNamed(rec.Ended(), WindowCloseSpanName)
	if len(batches) != 1 || len(closes) != 1 {
		t.Fatalf("%d batch, %d close spans", len(batches), len(closes))
	}
	b := batches[0]
	if b.Status().Code != codes.Error || b.Status().Description != "transaction aborted: produce failed: NOT_ENOUGH_REPLICAS" {
		t.Errorf("batch status %+v", b.Status())
	}
	if ev := b.Events(); len(ev) != 1 || ev[0].Name != "exception" || attrs(ev[0].Attributes)["exception.message"] != "transaction aborted: produce failed: NOT_ENOUGH_REPLICAS" {
		t.Errorf("batch events %+v", ev)
	}
	if c := closes[0]; c.Status().Code != codes.Error || len(c.Events()) != 0 {
		t.Errorf("window close status %+v events %d", c.Status(), len(c.Events()))
	}
}

// Without a tracer provider (no-op spans) the aggregates carry no trace id and no traceparent, as in Node.
func TestNoTracerProviderLeavesNoTraceContext(t *testing.T) {
	p := tracedProcessor(t, trace.NewNoopTracerProvider(), 0)
	_, _, _, inputs, _ := p.process([]*kgo.Record{tracedEvent(t, 0, "e1", now.Add(-time.Second), tp(1), "")}, now)
	out, _, pt, err := p.emit(context.Background(), now, inputs)
	pt.end(nil)
	if err != nil || len(out) == 0 {
		t.Fatal(err, len(out))
	}
	for _, r := range out {
		if r.Topic != p.cfg.AggregatesTopic {
			continue
		}
		var env commonv1.EventEnvelope
		var agg analyticsv1.WindowAggregate
		_ = proto.Unmarshal(r.Value, &env)
		_ = proto.Unmarshal(env.Data, &agg)
		if agg.TraceId != "" || env.Traceparent != "" || header(r, "traceparent") != "" {
			t.Errorf("trace context without a provider: %q %q %q", agg.TraceId, env.Traceparent, header(r, "traceparent"))
		}
	}
}

// An unsampled batch span is never exported: its aggregates must not carry a trace id that links nowhere.
func TestTraceIDOfOnlyForSampledSpans(t *testing.T) {
	sampled, ok := ParseTraceparent(tp(1))
	if !ok {
		t.Fatal("tp(1) must parse")
	}
	if got := traceIDOf(trace.SpanFromContext(trace.ContextWithSpanContext(context.Background(), sampled))); got != sampled.TraceID().String() {
		t.Fatalf("sampled span: trace id %q, want %q", got, sampled.TraceID().String())
	}
	unsampled := sampled.WithTraceFlags(0)
	if got := traceIDOf(trace.SpanFromContext(trace.ContextWithSpanContext(context.Background(), unsampled))); got != "" {
		t.Fatalf("unsampled span: trace id %q, want none", got)
	}
	never := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample()))
	_, span := never.Tracer("t").Start(context.Background(), "batch")
	defer span.End()
	if got := traceIDOf(span); got != "" {
		t.Fatalf("span of a never-sampling provider: trace id %q, want none", got)
	}
}

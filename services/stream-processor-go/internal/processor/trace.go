package processor

import (
	"context"
	"encoding/hex"
	"regexp"
	"strconv"
	"strings"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Span names and caps shared with the TypeScript processor (services/stream-processor/src/kafka:
// stream-processor.runner.ts, batch-trace.ts, window-close.tracing.ts).
const (
	// TracerName is the instrumentation scope of the spans ("stream-processor" in Node).
	TracerName          = "stream-processor-go"
	BatchSpanName       = "aggregate window batch"
	WindowCloseSpanName = "window close"
	// MaxContributorLinks bounds the links per batch span, so a 5000-record poll stays cheap (batch-trace.ts).
	MaxContributorLinks = 32
	// MaxWindowCloseSpans bounds the "window close" spans per batch: an idle watermark jump can finalise
	// thousands of windows at once; the batch span counts them all (window-close.tracing.ts).
	MaxWindowCloseSpans = 64
	// TraceparentHeader is the W3C header @tessera/kafka writes (EventHeaders.traceparent), and tracestate its companion.
	TraceparentHeader = "traceparent"
	TracestateHeader  = "tracestate"
)

var traceparentRE = regexp.MustCompile(`^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$`)

// ParseTraceparent turns a W3C traceparent into a remote span context; ok is false when it is absent or
// malformed (version ff, all-zero ids, upper case, extra fields), as parseTraceparent in batch-trace.ts.
func ParseTraceparent(s string) (trace.SpanContext, bool) {
	m := traceparentRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil || m[1] == "ff" {
		return trace.SpanContext{}, false
	}
	var tid trace.TraceID
	var sid trace.SpanID
	flags, err := strconv.ParseUint(m[4], 16, 8)
	if _, e1 := hex.Decode(tid[:], []byte(m[2])); e1 != nil || err != nil {
		return trace.SpanContext{}, false
	}
	if _, e2 := hex.Decode(sid[:], []byte(m[3])); e2 != nil {
		return trace.SpanContext{}, false
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.TraceFlags(flags), Remote: true})
	return sc, sc.IsValid()
}

// recordTraceparent is the producer's trace context of a raw record: its traceparent header, else the
// envelope's traceparent field (the rule of extractTraceContext in @tessera/kafka; a present but
// malformed header is not replaced by the field, it yields no link).
func recordTraceparent(r *kgo.Record, envelopeTraceparent string) string {
	for _, h := range r.Headers {
		if h.Key == TraceparentHeader && len(h.Value) > 0 {
			return string(h.Value)
		}
	}
	return envelopeTraceparent
}

// ContributorLinks links the span that emits a batch's aggregates to the traces of the events it consumed
// (in record order). An aggregate sums many events, so no single parent is right: links keep every contributor
// reachable. The LAST max distinct span contexts are kept, newest first, so the latest contributing event is
// always linked; dropped counts the distinct valid ones left out. Malformed traceparents are ignored.
func ContributorLinks(traceparents []string, max int) (links []trace.Link, dropped int) {
	seen := map[trace.SpanID]bool{}
	total := 0
	for i := len(traceparents) - 1; i >= 0; i-- {
		sc, ok := ParseTraceparent(traceparents[i])
		if !ok || seen[sc.SpanID()] {
			continue
		}
		seen[sc.SpanID()] = true
		total++
		if len(links) < max {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return links, total - len(links)
}

// traceIDOf is the span's trace id, or "" when it has none (no tracer provider: a no-op span).
func traceIDOf(span trace.Span) string {
	sc := span.SpanContext()
	// An unsampled span is never exported: its trace id would link the console to a trace that does not exist.
	if !sc.IsValid() || !sc.IsSampled() {
		return ""
	}
	return sc.TraceID().String()
}

// traceFields is the W3C context of ctx's span as header/envelope fields (traceparent, tracestate when set).
func traceFields(ctx context.Context) propagation.MapCarrier {
	carrier := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, carrier)
	return carrier
}

// WindowCloseAttributes are the attributes of one finalised window's span (windowCloseAttributes in Node):
// codes, times and numbers only. The dimension VALUE (and so the window key, which contains it) is left
// out because it is a tenant's attribute value, which may be PII.
func WindowCloseAttributes(a *analyticsv1.WindowAggregate) []attribute.KeyValue {
	attrs := []attribute.KeyValue{
		attribute.String("tessera.tenant", a.TenantId),
		attribute.String("tessera.window.stream", a.StreamId),
		attribute.String("tessera.window.metric", a.Metric),
		attribute.String("tessera.window.dimension", a.DimensionKey),
		attribute.String("tessera.window.start", isoMillis(a.WindowStart.AsTime())),
		attribute.Int64("tessera.window.size_s", a.WindowSizeSeconds),
		attribute.Int64("tessera.window.slide_s", a.WindowSlideSeconds),
		attribute.Int64("tessera.window.revision", a.Revision),
		attribute.Int64("tessera.window.events", a.Count),
		attribute.Int64("tessera.window.late_events", a.LateEvents),
	}
	if a.MaxEventTime != nil {
		attrs = append(attrs, attribute.String("tessera.window.max_event_time", isoMillis(a.MaxEventTime.AsTime())))
	}
	return attrs
}

// isoMillis formats like JavaScript's Date.toISOString: UTC, always three fraction digits.
func isoMillis(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// partitionInput is what one poll brought for one raw partition: its record count and, per decodable
// event in record order, the producer's traceparent (the batch span links to them).
type partitionInput struct {
	records      int
	traceparents []string
}

// pollTrace holds the spans of one poll's transaction; they end when the transaction does.
type pollTrace struct {
	batches []trace.Span // "aggregate window batch", one per partition that had records or emitted aggregates
	closes  []trace.Span // "window close", children of their partition's batch span
}

// startBatch starts the CONSUMER span of one partition's share of the poll, with the attributes of the
// Node processor's commit(), and its "window close" children; it returns the context of the batch span.
func (pt *pollTrace) startBatch(ctx context.Context, tracer trace.Tracer, topic string, partition int32, in *partitionInput, aggregates int, closed []*analyticsv1.WindowAggregate) context.Context {
	var (
		records      int
		traceparents []string
	)
	if in != nil {
		records, traceparents = in.records, in.traceparents
	}
	links, dropped := ContributorLinks(traceparents, MaxContributorLinks)
	ctx, span := tracer.Start(ctx, BatchSpanName,
		trace.WithNewRoot(), // an aggregate has many contributing events: links, no parent
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(links...),
		trace.WithAttributes(
			attribute.String("messaging.system", "kafka"),
			attribute.String("messaging.destination.name", topic),
			attribute.String("messaging.destination.partition.id", strconv.Itoa(int(partition))),
			attribute.Int("messaging.batch.message_count", records),
			attribute.Int("tessera.aggregates.emitted", aggregates),
			attribute.Int("tessera.links.dropped", dropped),
			attribute.Int("tessera.windows.closed", len(closed)),
			attribute.Int("tessera.windows.close_spans_dropped", max(0, len(closed)-MaxWindowCloseSpans)),
		),
	)
	pt.batches = append(pt.batches, span)
	for _, a := range closed[:min(len(closed), MaxWindowCloseSpans)] {
		_, c := tracer.Start(ctx, WindowCloseSpanName, trace.WithAttributes(WindowCloseAttributes(a)...))
		pt.closes = append(pt.closes, c)
	}
	return ctx
}

// end ends every span of the poll; err != nil (the transaction aborted or failed) marks them failed:
// "window close" spans with an ERROR status (the window is not closed until its final revision commits),
// batch spans with the recorded exception too, as in Node.
func (pt *pollTrace) end(err error) {
	if pt == nil {
		return
	}
	for _, s := range pt.closes {
		if err != nil {
			s.SetStatus(codes.Error, err.Error())
		}
		s.End()
	}
	for _, s := range pt.batches {
		if err != nil {
			s.RecordError(err)
			s.SetStatus(codes.Error, err.Error())
		}
		s.End()
	}
	pt.closes, pt.batches = nil, nil
}

// newTracer is the processor's tracer (instrumentation scope TracerName) on tp.
func newTracer(tp trace.TracerProvider) trace.Tracer { return tp.Tracer(TracerName) }

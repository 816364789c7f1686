// Package processor is the Kafka side of the aggregate stage: it reads analytics.events.raw.v1 in a
// consumer group and, per poll, writes window aggregates, dead letters, the window-state changelog and
// the consumed offsets in ONE Kafka transaction (read-process-write exactly-once).
package processor

import (
	"fmt"
	"math"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"google.golang.org/protobuf/proto"
)

// Type names carried in EventEnvelope.type (fully qualified proto message names).
var (
	analyticsEventType  = string((&analyticsv1.AnalyticsEvent{}).ProtoReflect().Descriptor().FullName())
	windowAggregateType = string((&analyticsv1.WindowAggregate{}).ProtoReflect().Descriptor().FullName())
	deadLetterType      = string((&analyticsv1.DeadLetter{}).ProtoReflect().Descriptor().FullName())
)

// Stable reason codes written to DeadLetter.reason_code.
const (
	CodeUndecodableEnvelope = "ANALYTICS.UNDECODABLE_ENVELOPE"
	CodeUnknownEventType    = "ANALYTICS.UNKNOWN_EVENT_TYPE"
	CodeUndecodableEvent    = "ANALYTICS.UNDECODABLE_EVENT"
	CodeInvalidEvent        = "ANALYTICS.INVALID_EVENT"
	CodeTooLate             = "ANALYTICS.TOO_LATE"
)

// Rejection is why a record cannot be aggregated; it becomes a DeadLetter.
type Rejection struct {
	Code   string
	Reason string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Reason }

func reject(code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Decode turns a raw record value into a validated window event, or says why it cannot.
func Decode(value []byte, now time.Time, maxFutureSkew time.Duration) (window.Event, *Rejection) {
	ev, _, rej := decodeTraced(value, now, maxFutureSkew)
	return ev, rej
}

// decodeTraced is Decode that also returns the envelope's traceparent field (the producer's trace context).
func decodeTraced(value []byte, now time.Time, maxFutureSkew time.Duration) (window.Event, string, *Rejection) {
	var env commonv1.EventEnvelope
	if err := proto.Unmarshal(value, &env); err != nil {
		return window.Event{}, "", reject(CodeUndecodableEnvelope, "value is not an EventEnvelope: %v", err)
	}
	ev, rej := decodeEvent(&env, now, maxFutureSkew)
	return ev, env.Traceparent, rej
}

func decodeEvent(env *commonv1.EventEnvelope, now time.Time, maxFutureSkew time.Duration) (window.Event, *Rejection) {
	if env.Type != analyticsEventType {
		return window.Event{}, reject(CodeUnknownEventType, "envelope type %q, want %q", truncate(env.Type, 100), analyticsEventType)
	}
	var ev analyticsv1.AnalyticsEvent
	if err := proto.Unmarshal(env.Data, &ev); err != nil {
		return window.Event{}, reject(CodeUndecodableEvent, "data is not an AnalyticsEvent: %v", err)
	}
	switch {
	case ev.TenantId == "":
		return window.Event{}, reject(CodeInvalidEvent, "tenant_id is empty")
	case ev.StreamId == "":
		return window.Event{}, reject(CodeInvalidEvent, "stream_id is empty")
	case ev.EventId == "":
		return window.Event{}, reject(CodeInvalidEvent, "event_id is empty")
	case ev.EventType == "":
		return window.Event{}, reject(CodeInvalidEvent, "event_type is empty")
	case ev.OccurredAt == nil || ev.OccurredAt.CheckValid() != nil:
		return window.Event{}, reject(CodeInvalidEvent, "occurred_at is missing or invalid")
	case math.IsNaN(ev.Value) || math.IsInf(ev.Value, 0) || math.Abs(ev.Value) > 1e300:
		return window.Event{}, reject(CodeInvalidEvent, "value is not a finite number in range")
	}
	at := ev.OccurredAt.AsTime()
	if at.After(now.Add(maxFutureSkew)) {
		// One such event would drag the watermark ahead and close every open window early.
		return window.Event{}, reject(CodeInvalidEvent, "occurred_at is %s in the future (limit %s)", at.Sub(now).Round(time.Second), maxFutureSkew)
	}
	return window.Event{
		ID: ev.EventId, Tenant: ev.TenantId, Stream: ev.StreamId, Metric: ev.EventType,
		TimeMs: at.UnixMilli(), Value: ev.Value, Attributes: ev.Attributes,
	}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Package processor is the Kafka side of the aggregate stage: it reads analytics.events.raw.v1 in a
// consumer group and, per poll, writes window aggregates, dead letters, the window-state changelog and
// the consumed offsets in ONE Kafka transaction (read-process-write exactly-once).
package processor

import (
	"fmt"
	"math"
	"strings"

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

// Stable reason codes written to DeadLetter.reason_code: the TS stage's (processing.types.ts DlqReason), one DLQ
// contract whichever stage runs (issue #15; before, this stage had codes of its own).
const (
	CodeInvalidEnvelope = "ANALYTICS.INVALID_ENVELOPE"
	CodeUnexpectedType  = "ANALYTICS.UNEXPECTED_TYPE"
	CodeInvalidPayload  = "ANALYTICS.INVALID_PAYLOAD"
	CodeInvalidEvent    = "ANALYTICS.INVALID_EVENT"
	CodeFutureEventTime = "ANALYTICS.FUTURE_EVENT_TIME"
	// CodeLate: too late for at least one of its windows (it still counts in the others), as the TS stage.
	CodeLate = "LATE"
)

// maxID is the longest tenant, stream, event id or type accepted (the TS decoder's MAX_ID).
const maxID = 200

// Rejection is why a record cannot be aggregated; it becomes a DeadLetter.
type Rejection struct {
	Code   string
	Reason string
}

func (r *Rejection) Error() string { return r.Code + ": " + r.Reason }

func reject(code, format string, args ...any) *Rejection {
	return &Rejection{Code: code, Reason: fmt.Sprintf(format, args...)}
}

// Decode turns a raw record value into a validated window event, or says why it cannot. The checks, their order and
// their codes are the TS decoder's (raw-event.decoder.ts); the future-skew check is the processor's (it needs the
// record timestamp).
func Decode(value []byte) (window.Event, *Rejection) {
	ev, _, rej := decodeTraced(value)
	return ev, rej
}

// decodeTraced is Decode that also returns the envelope's traceparent field (the producer's trace context).
func decodeTraced(value []byte) (window.Event, string, *Rejection) {
	env, rej := decodeEnvelope(value)
	if rej != nil {
		return window.Event{}, "", rej
	}
	ev, rej := decodeEvent(env)
	return ev, env.Traceparent, rej
}

func decodeEvent(env *commonv1.EventEnvelope) (window.Event, *Rejection) {
	if env.Type != analyticsEventType {
		return window.Event{}, reject(CodeUnexpectedType, "unexpected event type %s", truncate(env.Type, 100))
	}
	var ev analyticsv1.AnalyticsEvent
	if err := proto.Unmarshal(env.Data, &ev); err != nil {
		return window.Event{}, reject(CodeInvalidPayload, "payload is not an AnalyticsEvent: %v", err)
	}
	if problem := validate(&ev); problem != "" {
		return window.Event{}, reject(CodeInvalidEvent, "%s", problem)
	}
	return window.Event{
		ID: ev.EventId, Tenant: ev.TenantId, Stream: ev.StreamId, TimeMs: ev.OccurredAt.AsTime().UnixMilli(),
		Measurements: []window.Measurement{{Metric: ev.EventType, Value: ev.Value}}, Attributes: ev.Attributes,
	}, nil
}

// validate is the TS decoder's validate(): the first problem, "" when none. Every finite value is accepted (the shared
// sketches index the whole double range; before issue #15 this stage refused |value| > 1e300 and the TS one did not).
func validate(ev *analyticsv1.AnalyticsEvent) string {
	switch {
	case ev.TenantId == "":
		return "tenant_id is missing"
	case ev.StreamId == "":
		return "stream_id is missing"
	case ev.EventId == "":
		return "event_id is missing"
	case ev.EventType == "":
		return "event_type is missing"
	case utf16Len(ev.TenantId) > maxID || utf16Len(ev.StreamId) > maxID || utf16Len(ev.EventId) > maxID || utf16Len(ev.EventType) > maxID:
		return "an id is longer than 200 characters"
	case strings.Contains(ev.TenantId, "|") || strings.Contains(ev.StreamId, "|") || strings.Contains(ev.EventType, "|"):
		return `ids must not contain "|"`
	case ev.OccurredAt == nil || ev.OccurredAt.CheckValid() != nil:
		return "occurred_at is missing"
	case math.IsNaN(ev.Value) || math.IsInf(ev.Value, 0):
		return "value is not a finite number"
	}
	return ""
}

// utf16Len is a string's length as JavaScript counts it (UTF-16 code units), the unit of the TS decoder's limits.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

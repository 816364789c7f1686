package processor

import (
	"math"
	"strings"
	"testing"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	commonv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/common/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func envelope(t *testing.T, typ string, data []byte) []byte {
	t.Helper()
	b, err := proto.Marshal(&commonv1.EventEnvelope{Id: "e1", Type: typ, Source: "ingest", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func event(t *testing.T, mutate func(*analyticsv1.AnalyticsEvent)) []byte {
	t.Helper()
	ev := &analyticsv1.AnalyticsEvent{TenantId: "acme", StreamId: "web", EventId: "e1", EventType: "page.view",
		OccurredAt: timestamppb.New(now.Add(-time.Minute)), Value: 2.5, Attributes: map[string]string{"country": "DE"}}
	if mutate != nil {
		mutate(ev)
	}
	b, err := proto.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return envelope(t, analyticsEventType, b)
}

func TestDecodeAcceptsAValidEvent(t *testing.T) {
	e, rej := Decode(event(t, nil))
	if rej != nil {
		t.Fatal(rej)
	}
	if e.Tenant != "acme" || len(e.Measurements) != 1 || e.Measurements[0] != (window.Measurement{Metric: "page.view", Value: 2.5}) || e.TimeMs != now.Add(-time.Minute).UnixMilli() || e.Attributes["country"] != "DE" {
		t.Errorf("decoded %+v", e)
	}
}

func TestDecodeAcceptsEveryFiniteValue(t *testing.T) {
	// The TS decoder accepts any finite double; this one refused |value| > 1e300 before issue #15.
	for _, v := range []float64{1e308, -1e300, math.MaxFloat64, math.SmallestNonzeroFloat64} {
		if _, rej := Decode(event(t, func(e *analyticsv1.AnalyticsEvent) { e.Value = v })); rej != nil {
			t.Errorf("%v: %v", v, rej)
		}
	}
}

func noIDEnvelope(t *testing.T) []byte {
	t.Helper()
	b, err := proto.Marshal(&commonv1.EventEnvelope{Type: analyticsEventType, Data: []byte{0x0a, 0x01, 0x61}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRejectsBadInputWithAStableCode(t *testing.T) {
	cases := map[string]struct {
		value []byte
		code  string
	}{
		"garbage bytes":     {[]byte{0xff, 0xff, 0xff}, CodeInvalidEnvelope},
		"empty value":       {nil, CodeInvalidEnvelope},
		"envelope, no id":   {noIDEnvelope(t), CodeInvalidEnvelope},
		"other type":        {envelope(t, "tessera.payments.v1.TransferCreated", nil), CodeUnexpectedType},
		"bad payload":       {envelope(t, analyticsEventType, []byte{0x0a, 0xff}), CodeInvalidPayload},
		"invalid utf-8":     {envelope(t, analyticsEventType, protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "\xc3\x28")), CodeInvalidPayload},
		"missing tenant":    {event(t, func(e *analyticsv1.AnalyticsEvent) { e.TenantId = "" }), CodeInvalidEvent},
		"missing time":      {event(t, func(e *analyticsv1.AnalyticsEvent) { e.OccurredAt = nil }), CodeInvalidEvent},
		"NaN value":         {event(t, func(e *analyticsv1.AnalyticsEvent) { e.Value = math.NaN() }), CodeInvalidEvent},
		"infinite value":    {event(t, func(e *analyticsv1.AnalyticsEvent) { e.Value = math.Inf(-1) }), CodeInvalidEvent},
		"id over 200 chars": {event(t, func(e *analyticsv1.AnalyticsEvent) { e.EventId = strings.Repeat("x", 201) }), CodeInvalidEvent},
		"pipe in a key":     {event(t, func(e *analyticsv1.AnalyticsEvent) { e.StreamId = "web|x" }), CodeInvalidEvent},
	}
	for name, c := range cases {
		if _, rej := Decode(c.value); rej == nil || rej.Code != c.code {
			t.Errorf("%s: got %v, want %s", name, rej, c.code)
		}
	}
}

func TestEnrichAddsTenantMetadataWithoutOverriding(t *testing.T) {
	got := enrich(map[string]string{"tenant_tier": "free", "country": "XX"}, map[string]string{"country": "DE"})
	if len(got) != 2 || got["tenant_tier"] != "free" || got["country"] != "DE" {
		t.Fatalf("enriched %v", got)
	}
	attrs := map[string]string{"a": "1"}
	if out := enrich(nil, attrs); len(out) != 1 || out["a"] != "1" {
		t.Fatalf("no metadata: %v", out)
	}
}

package processor

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"github.com/tessera/tessera/services/stream-processor-go/internal/metrics"
	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
	"github.com/twmb/franz-go/pkg/kgo"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// A processed batch, recorded as after a commit, shows up in the scrape with one count per outcome
// and one dead letter per reason code.
func TestProcessedBatchIsScrapedPerOutcomeAndReason(t *testing.T) {
	cfg, err := config.Load(func(k string) (string, bool) {
		return map[string]string{"KAFKA_BROKERS": "x:1"}[k], k == "KAFKA_BROKERS"
	})
	if err != nil {
		t.Fatal(err)
	}
	p := &Processor{cfg: cfg, now: func() time.Time { return now }, layout: stateLayout{topics: []string{cfg.RawTopic}, counts: []int32{1}}, stores: map[int32]*window.Store{0: window.NewStore(&cfg.Window, now)}}
	tooLate := event(t, func(e *analyticsv1.AnalyticsEvent) {
		e.EventId = "e-old"
		e.OccurredAt = timestamppb.New(now.Add(-2 * time.Hour))
	})
	records := []*kgo.Record{
		{Topic: cfg.RawTopic, Value: event(t, nil), Timestamp: now},
		{Topic: cfg.RawTopic, Value: event(t, nil), Timestamp: now}, // same event id: duplicate
		{Topic: cfg.RawTopic, Value: []byte("not protobuf"), Timestamp: now},
		{Topic: cfg.RawTopic, Value: tooLate, Timestamp: now},
	}
	out, st, batches, _, err := p.process(records, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 || st.DeadLetters != 2 {
		t.Fatalf("dead letters: %d records, stats %+v", len(out), st)
	}

	m := metrics.New()
	m.Committed(cfg.RawTopic, cfg.GroupID, *batches[cfg.RawTopic])
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	scope := `otel_scope_name="tessera.stream-processor-go",service_name="stream-processor-go"`
	dlq := `messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",` + scope
	want := `
# HELP tessera_pipeline_events_total Analytics events by pipeline stage and outcome
# TYPE tessera_pipeline_events_total counter
tessera_pipeline_events_total{` + scope + `,tessera_pipeline_outcome="duplicate",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{` + scope + `,tessera_pipeline_outcome="late",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{` + scope + `,tessera_pipeline_outcome="poison",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{` + scope + `,tessera_pipeline_outcome="processed",tessera_pipeline_stage="processor"} 2
# HELP tessera_dlq_messages_total Messages written to a dead-letter topic
# TYPE tessera_dlq_messages_total counter
tessera_dlq_messages_total{error_type="LATE",` + dlq + `} 1
tessera_dlq_messages_total{error_type="ANALYTICS.INVALID_ENVELOPE",` + dlq + `} 1
`
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(want), metrics.PipelineEvents, metrics.DLQMessages); err != nil {
		t.Error(err)
	}
}

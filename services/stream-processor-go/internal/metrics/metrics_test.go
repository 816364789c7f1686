package metrics

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

const lbl = `otel_scope_name="tessera.stream-processor-go",service_name="stream-processor-go"`

func TestMetricsScrapeHasTheNodeProcessorsNamesAndLabels(t *testing.T) {
	m := New()
	m.Committed("analytics.events.raw.v1", "stream-processor-go.aggregates", Batch{Processed: 3, Duplicates: 1, Poison: 2,
		DeadLetters: map[string]int64{"ANALYTICS.INVALID_EVENT": 1, "ANALYTICS.INVALID_ENVELOPE": 1}})
	m.Committed("analytics.events.raw.v1", "stream-processor-go.aggregates", Batch{Processed: 2, Late: 1,
		DeadLetters: map[string]int64{"LATE": 1, "ANALYTICS.INVALID_EVENT": 0}})
	m.SetLag("stream-processor-go.aggregates", []PartitionLag{{Topic: "analytics.events.raw.v1", Partition: 1, Lag: 5}, {Topic: "analytics.events.raw.v1", Partition: 0, Lag: 0}})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()

	want := `
# HELP tessera_pipeline_events_total Analytics events by pipeline stage and outcome
# TYPE tessera_pipeline_events_total counter
tessera_pipeline_events_total{` + lbl + `,tessera_pipeline_outcome="duplicate",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{` + lbl + `,tessera_pipeline_outcome="late",tessera_pipeline_stage="processor"} 1
tessera_pipeline_events_total{` + lbl + `,tessera_pipeline_outcome="poison",tessera_pipeline_stage="processor"} 2
tessera_pipeline_events_total{` + lbl + `,tessera_pipeline_outcome="processed",tessera_pipeline_stage="processor"} 5
# HELP tessera_dlq_messages_total Messages written to a dead-letter topic
# TYPE tessera_dlq_messages_total counter
tessera_dlq_messages_total{error_type="ANALYTICS.INVALID_EVENT",messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",` + lbl + `} 1
tessera_dlq_messages_total{error_type="LATE",messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",` + lbl + `} 1
tessera_dlq_messages_total{error_type="ANALYTICS.INVALID_ENVELOPE",messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",` + lbl + `} 1
# HELP messaging_kafka_consumer_lag Messages between the log end and the committed offset of a consumer group
# TYPE messaging_kafka_consumer_lag gauge
messaging_kafka_consumer_lag{messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",messaging_destination_partition_id="0",messaging_system="kafka",` + lbl + `} 0
messaging_kafka_consumer_lag{messaging_consumer_group_name="stream-processor-go.aggregates",messaging_destination_name="analytics.events.raw.v1",messaging_destination_partition_id="1",messaging_system="kafka",` + lbl + `} 5
`
	if err := testutil.ScrapeAndCompare(srv.URL, strings.NewReader(want), PipelineEvents, DLQMessages, ConsumerLag); err != nil {
		t.Error(err)
	}

	// A refresh replaces the whole lag set (a partition no longer reported disappears).
	m.SetLag("stream-processor-go.aggregates", []PartitionLag{{Topic: "analytics.events.raw.v1", Partition: 1, Lag: 2}})
	body := scrape(t, srv.URL)
	if strings.Contains(body, `messaging_destination_partition_id="0"`) || !strings.Contains(body, `messaging_destination_partition_id="1",messaging_system="kafka",`+lbl+`} 2`) {
		t.Errorf("lag after refresh:\n%s", grep(body, ConsumerLag))
	}
	// Runtime series are told apart by service_name too.
	if !strings.Contains(body, `go_goroutines{service_name="stream-processor-go"}`) {
		t.Errorf("no Go runtime series with service_name:\n%s", grep(body, "go_goroutines"))
	}
}

func TestNewStartsEveryProcessorOutcomeAtZero(t *testing.T) {
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()
	body := scrape(t, srv.URL)
	for _, o := range []string{OutcomeProcessed, OutcomeDuplicate, OutcomeLate, OutcomePoison} {
		if !strings.Contains(body, `tessera_pipeline_outcome="`+o+`",tessera_pipeline_stage="processor"} 0`) {
			t.Errorf("no zero series for %s:\n%s", o, grep(body, PipelineEvents))
		}
	}
}

func TestLag(t *testing.T) {
	for _, c := range []struct{ end, start, committed, want int64 }{
		{10, 0, 7, 3},
		{10, 4, -1, 6}, // never committed: the whole retained log
		{10, 0, 10, 0},
		{10, 0, 12, 0}, // committed past a truncated end: never negative
	} {
		if got := Lag(c.end, c.start, c.committed); got != c.want {
			t.Errorf("Lag(%d, %d, %d) = %d, want %d", c.end, c.start, c.committed, got, c.want)
		}
	}
}

func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	addr := Serve(ctx, "127.0.0.1:0", New(), nil, log)
	if addr == "" {
		t.Fatal("not listening")
	}
	if body := scrape(t, "http://"+addr+"/metrics"); !strings.Contains(body, PipelineEvents) {
		t.Errorf("GET /metrics:\n%s", body)
	}
	res, err := http.Post("http://"+addr+"/metrics", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /metrics: %d", res.StatusCode)
	}

	// A taken port is reported, not fatal.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if got := Serve(ctx, ln.Addr().String(), New(), nil, log); got != "" {
		t.Errorf("listening on a taken port: %s", got)
	}
}

func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", url, res.StatusCode, err)
	}
	return string(b)
}

func grep(body, name string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestLogLevelEndpoint(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	level := new(slog.LevelVar)
	addr := Serve(ctx, "127.0.0.1:0", New(), level, log)
	url := "http://" + addr + "/log-level"
	call := func(method, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.TrimSpace(string(b))
	}
	if status, body := call(http.MethodGet, ""); status != 200 || body != `{"level":"info"}` {
		t.Errorf("GET: %d %s", status, body)
	}
	if status, body := call(http.MethodPut, `{"level":"debug"}`); status != 200 || body != `{"level":"debug"}` || level.Level() != slog.LevelDebug {
		t.Errorf("PUT debug: %d %s, level %v", status, body, level.Level())
	}
	if status, body := call(http.MethodPut, `{"level":"loud"}`); status != 400 || !strings.Contains(body, "TELEMETRY.INVALID_LOG_LEVEL") || level.Level() != slog.LevelDebug {
		t.Errorf("PUT loud: %d %s", status, body)
	}
	if status, body := call(http.MethodPut, `level=debug`); status != 400 || !strings.Contains(body, "TELEMETRY.INVALID_BODY") {
		t.Errorf("PUT form: %d %s", status, body)
	}
	if status, _ := call(http.MethodDelete, ""); status != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: %d", status)
	}

	// From another host (METRICS_HOST=0.0.0.0 lets scrapers in): read-only.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPut, "/log-level", strings.NewReader(`{"level":"error"}`))
	req.RemoteAddr = "10.1.2.3:40000"
	logLevelHandler(level, log).ServeHTTP(rec, req)
	if rec.Code != http.StatusForbidden || level.Level() != slog.LevelDebug {
		t.Errorf("remote PUT: %d, level %v", rec.Code, level.Level())
	}
}

func TestParseLevelTakesPinoNames(t *testing.T) {
	for name, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, " warn ": slog.LevelWarn, "error": slog.LevelError} {
		if got, ok := ParseLevel(name); !ok || got != want {
			t.Errorf("%q: %v %v", name, got, ok)
		}
	}
	if _, ok := ParseLevel("verbose"); ok {
		t.Error("verbose accepted")
	}
	if LevelName(slog.LevelDebug-4) != "trace" || LevelName(slog.LevelWarn) != "warn" {
		t.Error("level names")
	}
}

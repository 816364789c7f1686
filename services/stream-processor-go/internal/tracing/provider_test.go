package tracing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tessera/tessera/services/stream-processor-go/internal/config"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector records the requests a test exporter sends.
type collector struct {
	mu       sync.Mutex
	requests []request
}

type request struct {
	path, contentType string
	body              []byte
}

func (c *collector) serve(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c.mu.Lock()
		c.requests = append(c.requests, request{path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: body})
		c.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (c *collector) all() []request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]request(nil), c.requests...)
}

func load(t *testing.T, env map[string]string) config.Tracing {
	t.Helper()
	env["KAFKA_BROKERS"] = "a:1"
	cfg, err := config.Load(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Tracing
}

// emitOne ends one span on a provider built from env, shuts the provider down (the flush main does on exit)
// and returns the span's context.
func emitOne(t *testing.T, env map[string]string, opts Options) trace.SpanContext {
	t.Helper()
	tp, err := NewProvider(context.Background(), load(t, env), opts)
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "probe span")
	span.End()
	if err := tp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	return span.SpanContext()
}

// OTEL_TRACES_EXPORTER=zipkin: spans are POSTed (on shutdown at the latest) to OTEL_EXPORTER_ZIPKIN_ENDPOINT
// in Zipkin's v2 JSON, under the service name.
func TestZipkinExporterPostsToTheEndpoint(t *testing.T) {
	var c collector
	srv := c.serve(t)
	sc := emitOne(t, map[string]string{"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": srv.URL + "/api/v2/spans"}, Options{})
	reqs := c.all()
	if len(reqs) != 1 || reqs[0].path != "/api/v2/spans" {
		t.Fatalf("requests: %+v", reqs)
	}
	var spans []struct {
		TraceID       string `json:"traceId"`
		Name          string `json:"name"`
		LocalEndpoint struct {
			ServiceName string `json:"serviceName"`
		} `json:"localEndpoint"`
	}
	if err := json.Unmarshal(reqs[0].body, &spans); err != nil {
		t.Fatalf("zipkin body %s: %v", reqs[0].body, err)
	}
	if len(spans) != 1 || spans[0].Name != "probe span" || spans[0].TraceID != sc.TraceID().String() || spans[0].LocalEndpoint.ServiceName != ServiceName {
		t.Errorf("zipkin spans: %+v", spans)
	}
}

// OTEL_EXPORTER_OTLP_ENDPOINT alone selects otlp: http/protobuf to <endpoint>/v1/traces, with the resource
// (OTEL_SERVICE_NAME wins over the built-in name, as NodeSDK's env detector does).
func TestOTLPExporterPostsProtobufToV1Traces(t *testing.T) {
	var c collector
	srv := c.serve(t)
	t.Setenv("OTEL_SERVICE_NAME", "spgo-under-test")
	sc := emitOne(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": srv.URL, "DEPLOYMENT_ENVIRONMENT": "ci"}, Options{})
	reqs := c.all()
	if len(reqs) != 1 || reqs[0].path != "/v1/traces" || reqs[0].contentType != "application/x-protobuf" {
		t.Fatalf("requests: %+v", reqs)
	}
	var body coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(reqs[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.ResourceSpans) != 1 || len(body.ResourceSpans[0].ScopeSpans) != 1 || len(body.ResourceSpans[0].ScopeSpans[0].Spans) != 1 {
		t.Fatalf("export request: %v", &body)
	}
	span := body.ResourceSpans[0].ScopeSpans[0].Spans[0]
	if span.Name != "probe span" || !bytes.Equal(span.TraceId, traceIDBytes(sc)) {
		t.Errorf("span %q trace %x, want probe span %s", span.Name, span.TraceId, sc.TraceID())
	}
	res := map[string]string{}
	for _, kv := range body.ResourceSpans[0].Resource.Attributes {
		res[kv.Key] = kv.Value.GetStringValue()
	}
	if res["service.name"] != "spgo-under-test" || res["deployment.environment.name"] != "ci" || res["service.version"] == "" || res["telemetry.sdk.language"] != "go" {
		t.Errorf("resource: %v", res)
	}
}

func traceIDBytes(sc trace.SpanContext) []byte { id := sc.TraceID(); return id[:] }

// Unset (and "none"): nothing is exported, yet spans get real, sampled ids (the trace id still reaches the
// aggregates), as with NodeSDK's NoopSpanProcessor.
func TestNoneExportsNothingButKeepsIDs(t *testing.T) {
	var c collector
	srv := c.serve(t)
	for _, env := range []map[string]string{
		{"OTEL_EXPORTER_ZIPKIN_ENDPOINT": srv.URL},
		{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": srv.URL},
	} {
		rec := tracetest.NewSpanRecorder()
		sc := emitOne(t, env, Options{Extra: []sdktrace.SpanProcessor{rec}})
		if !sc.IsValid() || !sc.IsSampled() {
			t.Errorf("%v: span context %v", env, sc)
		}
		if got := len(rec.Ended()); got != 1 {
			t.Errorf("%v: recorded %d spans", env, got)
		}
	}
	if reqs := c.all(); len(reqs) != 0 {
		t.Errorf("exported with none: %+v", reqs)
	}
}

// console: one JSON object per span on the given writer.
func TestConsoleExporterWritesTheSpan(t *testing.T) {
	var out bytes.Buffer
	emitOne(t, map[string]string{"OTEL_TRACES_EXPORTER": "console"}, Options{Console: &out})
	var span struct{ Name string }
	if err := json.Unmarshal(out.Bytes(), &span); err != nil || span.Name != "probe span" {
		t.Errorf("console output %q: %v", out.String(), err)
	}
}

// OTEL_TRACES_SAMPLER reaches the provider: always_off and a 0 ratio drop the span (it still has ids).
func TestSamplerFromEnv(t *testing.T) {
	for _, c := range []struct {
		env     map[string]string
		sampled bool
	}{
		{map[string]string{}, true},
		{map[string]string{"OTEL_TRACES_SAMPLER": "always_off"}, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0"}, false},
		{map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1"}, true},
	} {
		rec := tracetest.NewSpanRecorder()
		sc := emitOne(t, c.env, Options{Extra: []sdktrace.SpanProcessor{rec}})
		if !sc.IsValid() || sc.IsSampled() != c.sampled || (len(rec.Ended()) == 1) != c.sampled {
			t.Errorf("%v: sampled %v, recorded %d; want sampled %v", c.env, sc.IsSampled(), len(rec.Ended()), c.sampled)
		}
	}
}

func TestResourceDefaults(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "")
	t.Setenv("OTEL_RESOURCE_ATTRIBUTES", "")
	res, err := Resource(context.Background(), load(t, map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[attribute.Key]string{}
	for _, kv := range res.Attributes() {
		got[kv.Key] = kv.Value.Emit()
	}
	if got["service.name"] != "stream-processor-go" || got["service.version"] != "0.0.0" || got["deployment.environment.name"] != "local" {
		t.Errorf("resource: %v", got)
	}
}

// SDK errors (a collector that is down) are logged, at most one line per interval.
func TestErrorHandlerThrottles(t *testing.T) {
	var out bytes.Buffer
	h := &throttledHandler{log: slog.New(slog.NewTextHandler(&out, nil)), every: 1 << 62}
	h.Handle(errors.New("export failed: connection refused"))
	h.Handle(errors.New("export failed again"))
	if n := strings.Count(out.String(), "opentelemetry error"); n != 1 || !strings.Contains(out.String(), "connection refused") {
		t.Errorf("log: %q", out.String())
	}
}

package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Trace exporters selectable with OTEL_TRACES_EXPORTER: the names libs/telemetry (exporters.ts) accepts.
const (
	ExporterOTLP    = "otlp"
	ExporterZipkin  = "zipkin"
	ExporterConsole = "console"
	ExporterNone    = "none"
)

// TraceExporters lists the accepted OTEL_TRACES_EXPORTER names.
var TraceExporters = []string{ExporterOTLP, ExporterZipkin, ExporterConsole, ExporterNone}

// Samplers lists the accepted OTEL_TRACES_SAMPLER values (libs/telemetry sampler.ts).
var Samplers = []string{"always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

// DefaultZipkinEndpoint is libs/telemetry's DEFAULT_ZIPKIN_ENDPOINT (the local Zipkin in infra/topology.yaml).
const DefaultZipkinEndpoint = "http://127.0.0.1:9411/api/v2/spans"

// defaultOTLPTracesEndpoint is the OTLP/HTTP default of the spec and of the Node exporter.
const defaultOTLPTracesEndpoint = "http://localhost:4318/v1/traces"

// Tracing is the validated OpenTelemetry tracing configuration: the standard OTEL_* variables, read with
// the rules of libs/telemetry so the Go service behaves like the Node ones under the same environment.
type Tracing struct {
	// Exporters from OTEL_TRACES_EXPORTER (deduplicated, lower case). Empty means "none": spans are still
	// created with real ids (trace ids reach the aggregates and the traceparent headers) but go nowhere.
	Exporters []string
	// ZipkinEndpoint is OTEL_EXPORTER_ZIPKIN_ENDPOINT, else DefaultZipkinEndpoint ("" unless zipkin is selected).
	ZipkinEndpoint string
	// OTLPEndpoint is the full OTLP/HTTP traces URL: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else
	// OTEL_EXPORTER_OTLP_ENDPOINT + "/v1/traces", else http://localhost:4318/v1/traces ("" unless otlp is selected).
	OTLPEndpoint string
	// Sampler is OTEL_TRACES_SAMPLER (default parentbased_always_on); SamplerRatio its ratio argument
	// (OTEL_TRACES_SAMPLER_ARG, default 1), used by the *traceidratio samplers only.
	Sampler      string
	SamplerRatio float64
	// DeploymentEnvironment is DEPLOYMENT_ENVIRONMENT, else "local" (Node also falls back to NODE_ENV).
	DeploymentEnvironment string
}

// Enabled reports whether name is among the selected exporters.
func (t Tracing) Enabled(name string) bool { return slices.Contains(t.Exporters, name) }

func (r *reader) tracing() Tracing {
	t := Tracing{
		Sampler:               "parentbased_always_on",
		SamplerRatio:          1,
		DeploymentEnvironment: r.str("DEPLOYMENT_ENVIRONMENT", "local"),
	}
	otlpBase := r.str("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	otlpTraces := r.str("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")

	// OTEL_TRACES_EXPORTER: unset means otlp when an OTLP endpoint is configured, else none (exporters.ts).
	raw := r.str("OTEL_TRACES_EXPORTER", "")
	switch {
	case raw == "" && (otlpBase != "" || otlpTraces != ""):
		t.Exporters = []string{ExporterOTLP}
	case raw != "":
		var unknown []string
		for _, n := range strings.Split(raw, ",") {
			n = strings.ToLower(strings.TrimSpace(n))
			if n == "" || slices.Contains(t.Exporters, n) {
				continue
			}
			if !slices.Contains(TraceExporters, n) {
				unknown = append(unknown, n)
			}
			t.Exporters = append(t.Exporters, n)
		}
		if len(unknown) > 0 {
			r.fail("OTEL_TRACES_EXPORTER", fmt.Sprintf("unknown exporter %s; use a comma list of %s", strings.Join(unknown, ", "), strings.Join(TraceExporters, ", ")))
		} else if slices.Contains(t.Exporters, ExporterNone) && len(t.Exporters) > 1 {
			r.fail("OTEL_TRACES_EXPORTER", fmt.Sprintf("%q cannot be combined with other exporters (got %q)", ExporterNone, raw))
		}
	}
	if t.Enabled(ExporterNone) {
		t.Exporters = nil
	}

	if t.Enabled(ExporterZipkin) { // read (and validated) only when used, as in exporters.ts
		t.ZipkinEndpoint = r.httpURL("OTEL_EXPORTER_ZIPKIN_ENDPOINT", DefaultZipkinEndpoint)
	}
	if t.Enabled(ExporterOTLP) {
		// The Go exporter speaks http/protobuf only (no JSON encoding, and no gRPC exporter is linked in):
		// any other protocol is refused instead of sending a body the receiver does not expect.
		for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
			if p := r.str(v, ""); p != "" {
				if p != "http/protobuf" {
					r.fail(v, fmt.Sprintf("only http/protobuf is supported by this service, got %q", p))
				}
				break // the signal-specific variable wins over the generic one
			}
		}
		switch {
		case otlpTraces != "":
			t.OTLPEndpoint = r.httpURL("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
		case otlpBase != "":
			if base := r.httpURL("OTEL_EXPORTER_OTLP_ENDPOINT", ""); base != "" {
				t.OTLPEndpoint = strings.TrimRight(base, "/") + "/v1/traces"
			}
		default:
			t.OTLPEndpoint = defaultOTLPTracesEndpoint
		}
	}

	// OTEL_TRACES_SAMPLER / _ARG, validated like sampler.ts (the SDK would only log a typo and sample everything).
	if s := r.str("OTEL_TRACES_SAMPLER", ""); s != "" {
		s = strings.ToLower(s)
		if !slices.Contains(Samplers, s) {
			r.fail("OTEL_TRACES_SAMPLER", fmt.Sprintf("expected one of %s, got %q", strings.Join(Samplers, ", "), s))
		}
		t.Sampler = s
	}
	if strings.HasSuffix(t.Sampler, "traceidratio") {
		if arg := r.str("OTEL_TRACES_SAMPLER_ARG", ""); arg != "" {
			v, err := strconv.ParseFloat(arg, 64)
			if err != nil || v < 0 || v > 1 {
				r.fail("OTEL_TRACES_SAMPLER_ARG", fmt.Sprintf("expected a ratio between 0 and 1, got %q", arg))
			} else {
				t.SamplerRatio = v
			}
		}
	}
	return t
}

// httpURL reads an absolute http(s) URL, or def when unset.
func (r *reader) httpURL(name, def string) string {
	raw := r.str(name, "")
	if raw == "" {
		return def
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("expected an http(s) URL, got %q", raw))
		return def
	}
	return raw
}

package config

import (
	"errors"
	"reflect"
	"testing"
)

func tracingOf(t *testing.T, m map[string]string) Tracing {
	t.Helper()
	m["KAFKA_BROKERS"] = "a:1"
	c, err := Load(env(m))
	if err != nil {
		t.Fatalf("%v: %v", m, err)
	}
	return c.Tracing
}

// The selection rules of libs/telemetry exporters.ts: unset = otlp with an OTLP endpoint, else none.
func TestTracingExporterSelection(t *testing.T) {
	for name, c := range map[string]struct {
		env       map[string]string
		exporters []string
		otlp      string
		zipkin    string
	}{
		"unset: none":                         {map[string]string{}, nil, "", ""},
		"unset with an OTLP endpoint":         {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, []string{"otlp"}, "http://collector:4318/v1/traces", ""},
		"unset with a traces endpoint":        {map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/custom"}, []string{"otlp"}, "http://c:4318/custom", ""},
		"traces endpoint wins":                {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:2/t"}, []string{"otlp"}, "http://b:2/t", ""},
		"otlp without endpoint: default":      {map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}, []string{"otlp"}, "http://localhost:4318/v1/traces", ""},
		"zipkin: local default endpoint":      {map[string]string{"OTEL_TRACES_EXPORTER": "zipkin"}, []string{"zipkin"}, "", DefaultZipkinEndpoint},
		"zipkin endpoint as given":            {map[string]string{"OTEL_TRACES_EXPORTER": " Zipkin ", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": "http://zipkin:9411/api/v2/spans"}, []string{"zipkin"}, "", "http://zipkin:9411/api/v2/spans"},
		"explicit none beats an endpoint":     {map[string]string{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"}, nil, "", ""},
		"comma list, deduplicated":            {map[string]string{"OTEL_TRACES_EXPORTER": "zipkin,otlp,zipkin,console"}, []string{"zipkin", "otlp", "console"}, "http://localhost:4318/v1/traces", DefaultZipkinEndpoint},
		"zipkin url unused when not selected": {map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": "not a url"}, []string{"otlp"}, "http://localhost:4318/v1/traces", ""},
	} {
		got := tracingOf(t, c.env)
		if !reflect.DeepEqual(got.Exporters, c.exporters) || got.OTLPEndpoint != c.otlp || got.ZipkinEndpoint != c.zipkin {
			t.Errorf("%s: exporters %q otlp %q zipkin %q; want %q %q %q", name, got.Exporters, got.OTLPEndpoint, got.ZipkinEndpoint, c.exporters, c.otlp, c.zipkin)
		}
	}
}

func TestTracingSampler(t *testing.T) {
	for name, c := range map[string]struct {
		env     map[string]string
		sampler string
		ratio   float64
	}{
		"default":                 {map[string]string{}, "parentbased_always_on", 1},
		"ratio":                   {map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25"}, "parentbased_traceidratio", 0.25},
		"case-insensitive":        {map[string]string{"OTEL_TRACES_SAMPLER": "ALWAYS_OFF"}, "always_off", 1},
		"arg ignored w/o a ratio": {map[string]string{"OTEL_TRACES_SAMPLER": "always_on", "OTEL_TRACES_SAMPLER_ARG": "junk"}, "always_on", 1},
	} {
		got := tracingOf(t, c.env)
		if got.Sampler != c.sampler || got.SamplerRatio != c.ratio {
			t.Errorf("%s: %q %v; want %q %v", name, got.Sampler, got.SamplerRatio, c.sampler, c.ratio)
		}
	}
	if got := tracingOf(t, map[string]string{"DEPLOYMENT_ENVIRONMENT": "ci"}); got.DeploymentEnvironment != "ci" {
		t.Errorf("deployment environment %q", got.DeploymentEnvironment)
	}
	if got := tracingOf(t, map[string]string{}); got.DeploymentEnvironment != "local" {
		t.Errorf("default deployment environment %q", got.DeploymentEnvironment)
	}
}

// A bad tracing value stops the service at boot, naming the variable (TelemetryConfigError in Node).
func TestTracingRefusesBadValues(t *testing.T) {
	for name, c := range map[string]struct {
		env     map[string]string
		badVar  string
		message string
	}{
		"unknown exporter":     {map[string]string{"OTEL_TRACES_EXPORTER": "zipkin,jaeger"}, "OTEL_TRACES_EXPORTER", `config: OTEL_TRACES_EXPORTER: unknown exporter jaeger; use a comma list of otlp, zipkin, console, none`},
		"none with others":     {map[string]string{"OTEL_TRACES_EXPORTER": "none,otlp"}, "OTEL_TRACES_EXPORTER", `config: OTEL_TRACES_EXPORTER: "none" cannot be combined with other exporters (got "none,otlp")`},
		"zipkin url":           {map[string]string{"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": "zipkin:9411"}, "OTEL_EXPORTER_ZIPKIN_ENDPOINT", ""},
		"zipkin scheme":        {map[string]string{"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_ZIPKIN_ENDPOINT": "ftp://z/api"}, "OTEL_EXPORTER_ZIPKIN_ENDPOINT", ""},
		"otlp endpoint":        {map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT", ""},
		"otlp traces endpoint": {map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "/v1/traces"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""},
		"otlp json":            {map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL", ""},
		"otlp grpc for traces": {map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", ""},
		"sampler":              {map[string]string{"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER", ""},
		"ratio above 1":        {map[string]string{"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG", ""},
		"ratio not a number":   {map[string]string{"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"}, "OTEL_TRACES_SAMPLER_ARG", ""},
	} {
		c.env["KAFKA_BROKERS"] = "a:1"
		_, err := Load(env(c.env))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Var != c.badVar {
			t.Errorf("%s: got %v, want an error naming %s", name, err, c.badVar)
			continue
		}
		if c.message != "" && err.Error() != c.message {
			t.Errorf("%s: message %q, want %q", name, err.Error(), c.message)
		}
	}
	// The protocol is checked only when otlp is selected; http/protobuf is accepted.
	tracingOf(t, map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
	tracingOf(t, map[string]string{"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"})
}

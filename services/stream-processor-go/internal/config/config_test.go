package config

import (
	"errors"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"KAFKA_BROKERS": "a:1, b:2"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Brokers) != 2 || c.GroupID != "stream-processor-go.aggregates" || c.StateTopic != "stream-processor-go.aggregates.state" {
		t.Errorf("defaults: %+v", c)
	}
	if len(c.Window.Windows) != 3 || c.Window.AllowedLateness != 30*time.Second || c.Window.Dimensions[1] != "plan" {
		t.Errorf("window defaults: %+v", c.Window)
	}
	// The TS stage's defaults (issue #15).
	if c.Window.DedupHorizon != 2*time.Minute || c.Window.ClosedRetention != 5*time.Minute || c.MaxFutureSkew != time.Hour ||
		c.Window.Sketches.Alpha != 0.01 || c.Window.Sketches.HLLPrecision != 11 || c.TenantMetadata["demo"]["tenant_tier"] != "free" {
		t.Errorf("parity defaults: %+v %+v %v", c.Window, c.TenantMetadata, c.MaxFutureSkew)
	}
}

func TestLoadNamesTheBadVariable(t *testing.T) {
	for name, m := range map[string]map[string]string{
		"KAFKA_BROKERS":                        {},
		"STREAM_PROCESSOR_GO_ALLOWED_LATENESS": {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_ALLOWED_LATENESS": "soon"},
		"STREAM_PROCESSOR_GO_WINDOWS":          {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_WINDOWS": "60s/7s"},
		"STREAM_PROCESSOR_GO_MAX_POLL_RECORDS": {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_MAX_POLL_RECORDS": "x"},
		"STREAM_PROCESSOR_GO_SKETCH_ALPHA":     {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_SKETCH_ALPHA": "1.5"},
		"STREAM_PROCESSOR_GO_HLL_PRECISION":    {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_HLL_PRECISION": "20"},
		"STREAM_PROCESSOR_GO_TENANT_METADATA":  {"KAFKA_BROKERS": "a:1", "STREAM_PROCESSOR_GO_TENANT_METADATA": `{"demo":"free"}`},
	} {
		_, err := Load(env(m))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Var != name {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestLoadMetricsAddress(t *testing.T) {
	for name, c := range map[string]struct {
		env  map[string]string
		want string
	}{
		"no port: no endpoint":  {map[string]string{}, ""},
		"loopback by default":   {map[string]string{Prefix + "METRICS_PORT": "9467"}, "127.0.0.1:9467"},
		"host from the service": {map[string]string{Prefix + "METRICS_PORT": "9467", Prefix + "METRICS_HOST": "0.0.0.0"}, "0.0.0.0:9467"},
		"OTel fallback":         {map[string]string{"OTEL_EXPORTER_PROMETHEUS_PORT": "9464", "OTEL_EXPORTER_PROMETHEUS_HOST": "::1"}, "[::1]:9464"},
		"service port wins":     {map[string]string{Prefix + "METRICS_PORT": "9467", "OTEL_EXPORTER_PROMETHEUS_PORT": "9464"}, "127.0.0.1:9467"},
	} {
		c.env["KAFKA_BROKERS"] = "a:1"
		cfg, err := Load(env(c.env))
		if err != nil || cfg.MetricsAddr != c.want {
			t.Errorf("%s: got %q, %v; want %q", name, addrOf(cfg), err, c.want)
		}
	}
	for _, bad := range []string{"0", "65536", "http", "94x", "+9467"} {
		_, err := Load(env(map[string]string{"KAFKA_BROKERS": "a:1", Prefix + "METRICS_PORT": bad}))
		var cfgErr *Error
		if !errors.As(err, &cfgErr) || cfgErr.Var != Prefix+"METRICS_PORT" {
			t.Errorf("port %q: got %v", bad, err)
		}
	}
}

func addrOf(c *Config) string {
	if c == nil {
		return "<nil>"
	}
	return c.MetricsAddr
}

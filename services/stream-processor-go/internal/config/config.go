// Package config reads the processor's settings from the environment and validates them at boot,
// so a bad value stops the service with a message naming the variable.
package config

import (
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tessera/tessera/services/stream-processor-go/internal/window"
)

// Prefix of every service-specific variable (house rule: <SERVICE>_<KEY>).
const Prefix = "STREAM_PROCESSOR_GO_"

// Config is the validated configuration.
// DefaultTenantMetadata is the TS stage's STREAM_PROCESSOR_TENANT_METADATA default.
const DefaultTenantMetadata = `{"demo":{"tenant_tier":"free","tenant_region":"eu"}}`

type Config struct {
	Brokers []string
	// Kafka is how the clients authenticate (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*, KAFKA_TLS_*; see kafka.go).
	// Clients are built from KafkaOpts, which applies it.
	Kafka    KafkaSecurity
	RawTopic string
	// PaymentsTopic: the payment events whose metrics this stage aggregates too (STREAM_PROCESSOR_GO_PAYMENTS_TOPIC,
	// "none" turns payment metrics off: ""); PaymentsRepartitionTopic: its one-key copy (see processor/payments.go).
	PaymentsTopic            string
	PaymentsRepartitionTopic string
	AggregatesTopic          string
	DLQTopic                 string
	// StateTopic is the compacted changelog of the window state; it belongs to the group, so it
	// defaults to "<group>.state" (one per group, as Kafka Streams names changelogs per application).
	StateTopic      string
	GroupID         string
	TransactionalID string
	// PollWait bounds how long a poll waits for records before windows are flushed anyway.
	PollWait       time.Duration
	MaxPollRecords int
	MaxFutureSkew  time.Duration
	// TenantMetadata: attributes added to a tenant's events (never overriding the event's own), usable as dimensions;
	// STREAM_PROCESSOR_GO_TENANT_METADATA, the TS stage's STREAM_PROCESSOR_TENANT_METADATA format and default.
	TenantMetadata map[string]map[string]string
	Window         window.Config
	// MetricsAddr is host:port of the Prometheus /metrics endpoint, "" when no port is set (no endpoint),
	// the same rule as libs/telemetry's prometheusEndpoint on the Node side.
	MetricsAddr string
	// LagRefresh is how often consumer lag is fetched (15 s like libs/kafka; not an env var).
	LagRefresh time.Duration
	// Tracing is the OpenTelemetry span export and sampling (OTEL_* variables, see tracing.go).
	Tracing Tracing
	// CPUProfile: a file to write a pprof CPU profile of the whole run to (STREAM_PROCESSOR_GO_CPU_PROFILE; the bench
	// uses it as --cpu-prof for the Node services), "" for none.
	CPUProfile string
}

// StatefulTopics are the inputs whose partitions hold window state: the raw topic, then the payments repartition topic.
func (c *Config) StatefulTopics() []string {
	if c.PaymentsTopic == "" {
		return []string{c.RawTopic}
	}
	return []string{c.RawTopic, c.PaymentsRepartitionTopic}
}

// InputTopics are every topic the group consumes: the stateful ones and the payment events it copies.
func (c *Config) InputTopics() []string {
	if c.PaymentsTopic == "" {
		return c.StatefulTopics()
	}
	return append(c.StatefulTopics(), c.PaymentsTopic)
}

// Error names the variable that failed validation.
type Error struct {
	Var    string
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("config: %s: %s", e.Var, e.Reason) }

// Load reads the configuration from lookup (os.LookupEnv in production, a map in tests).
func Load(lookup func(string) (string, bool)) (*Config, error) {
	r := reader{lookup: lookup}
	brokers := r.str("KAFKA_BROKERS", "")
	if brokers == "" && r.err == nil {
		r.err = &Error{Var: "KAFKA_BROKERS", Reason: "required (comma-separated host:port list)"}
	}
	group := r.str(Prefix+"GROUP_ID", "stream-processor-go.aggregates")
	host, _ := os.Hostname()
	c := &Config{
		Brokers:       splitList(brokers),
		RawTopic:      r.str(Prefix+"RAW_TOPIC", "analytics.events.raw.v1"),
		PaymentsTopic: r.str(Prefix+"PAYMENTS_TOPIC", "payments.transfer.events.v1"),
		// Its own, not the TS stage's analytics.processor-payments.repartition.v1: both stages can run side by side.
		PaymentsRepartitionTopic: r.str(Prefix+"PAYMENTS_REPARTITION_TOPIC", "analytics.processor-go-payments.repartition.v1"),
		AggregatesTopic:          r.str(Prefix+"AGGREGATES_TOPIC", "analytics.aggregates.v1"),
		DLQTopic:                 r.str(Prefix+"DLQ_TOPIC", "analytics.events.dlq.v1"),
		StateTopic:               r.str(Prefix+"STATE_TOPIC", group+".state"),
		GroupID:                  group,
		// Stable across restarts on one host, so a restarted process fences its crashed predecessor's
		// open transaction at once instead of waiting for the transaction timeout.
		TransactionalID: r.str(Prefix+"TRANSACTIONAL_ID", "stream-processor-go-"+host),
		PollWait:        r.duration(Prefix+"POLL_WAIT", time.Second),
		MaxPollRecords:  r.int(Prefix+"MAX_POLL_RECORDS", 5000),
		MaxFutureSkew:   r.duration(Prefix+"MAX_FUTURE_SKEW", time.Hour),
		Window: window.Config{
			Dimensions:      splitList(r.str(Prefix+"DIMENSIONS", "country,plan")),
			DistinctKey:     r.str(Prefix+"DISTINCT_KEY", "user_id"),
			AllowedLateness: r.duration(Prefix+"ALLOWED_LATENESS", 30*time.Second),
			WatermarkDelay:  r.duration(Prefix+"WATERMARK_DELAY", 5*time.Second),
			IdleTimeout:     r.duration(Prefix+"IDLE_TIMEOUT", 10*time.Second),
			DedupHorizon:    r.duration(Prefix+"DEDUP_HORIZON", 2*time.Minute),
			ClosedRetention: r.duration(Prefix+"CLOSED_RETENTION", 5*time.Minute),
			Producer:        "stream-processor-go",
			Sketches:        window.Sketches{Alpha: r.float(Prefix+"SKETCH_ALPHA", window.DefaultSketchAlpha), HLLPrecision: r.int(Prefix+"HLL_PRECISION", window.DefaultHLLPrecision)},
		},
	}
	if c.PaymentsTopic == "none" {
		c.PaymentsTopic = ""
	}
	c.CPUProfile = r.str(Prefix+"CPU_PROFILE", "")
	c.Kafka = r.kafkaSecurity()
	c.MetricsAddr = r.metricsAddr()
	c.Tracing = r.tracing()
	c.LagRefresh = 15 * time.Second
	windows := r.str(Prefix+"WINDOWS", "10s,60s,60s/10s")
	if meta := r.str(Prefix+"TENANT_METADATA", DefaultTenantMetadata); r.err == nil {
		if err := json.Unmarshal([]byte(meta), &c.TenantMetadata); err != nil {
			r.fail(Prefix+"TENANT_METADATA", fmt.Sprintf(`expected a JSON map tenant -> {attribute: value}, e.g. {"demo":{"tenant_tier":"free"}}: %v`, err))
		}
	}
	if a := c.Window.Sketches.Alpha; r.err == nil && !(a > 0 && a < 1) {
		r.fail(Prefix+"SKETCH_ALPHA", fmt.Sprintf("must be in (0, 1), got %v", a))
	}
	if p := c.Window.Sketches.HLLPrecision; r.err == nil && (p < 4 || p > 16) {
		r.fail(Prefix+"HLL_PRECISION", fmt.Sprintf("must be 4..16, got %d", p))
	}
	if r.err != nil {
		return nil, r.err
	}
	specs, err := window.ParseSpecs(windows)
	if err != nil {
		return nil, &Error{Var: Prefix + "WINDOWS", Reason: err.Error()}
	}
	c.Window.Windows = specs
	if c.MaxPollRecords <= 0 {
		return nil, &Error{Var: Prefix + "MAX_POLL_RECORDS", Reason: "must be positive"}
	}
	return c, nil
}

// FromEnv loads from the process environment.
func FromEnv() (*Config, error) { return Load(os.LookupEnv) }

type reader struct {
	lookup func(string) (string, bool)
	err    error
}

func (r *reader) str(name, def string) string {
	if v, ok := r.lookup(name); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("%q is not a non-negative duration such as 30s or 5m", v))
		return def
	}
	return d
}

func (r *reader) int(name string, def int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("%q is not an integer", v))
		return def
	}
	return n
}

// metricsAddr reads <SERVICE>_METRICS_PORT / _METRICS_HOST, falling back to OTEL_EXPORTER_PROMETHEUS_PORT /
// _HOST, loopback by default (the port is unauthenticated): the Node services' convention.
func (r *reader) float(name string, def float64) float64 {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		r.fail(name, fmt.Sprintf("%q is not a number", v))
		return def
	}
	return f
}

func (r *reader) metricsAddr() string {
	portVar := Prefix + "METRICS_PORT"
	port := r.str(portVar, "")
	if port == "" {
		portVar = "OTEL_EXPORTER_PROMETHEUS_PORT"
		port = r.str(portVar, "")
	}
	if port == "" {
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
		r.fail(portVar, fmt.Sprintf("expected a TCP port (1-65535), got %q", port))
		return ""
	}
	host := r.str(Prefix+"METRICS_HOST", r.str("OTEL_EXPORTER_PROMETHEUS_HOST", "127.0.0.1"))
	return net.JoinHostPort(host, port)
}

func (r *reader) fail(name, reason string) {
	if r.err == nil {
		r.err = &Error{Var: name, Reason: reason}
	}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

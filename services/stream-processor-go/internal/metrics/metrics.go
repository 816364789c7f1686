// Package metrics is the processor's Prometheus surface: the same series, names and label keys the
// TypeScript processor exposes through OpenTelemetry's Prometheus exporter (docs/metrics.md), so one
// dashboard query covers either processor; they differ only in service_name.
//
// Library: github.com/prometheus/client_golang, not the OpenTelemetry Go SDK + its Prometheus exporter.
// This service has no tracing SDK, and client_golang writes exactly the names we give it, whereas the
// OTel Go exporter appends unit suffixes and moves resource attributes (service_name) into target_info
// unless configured otherwise: matching the Node exposition is simpler with the names written out here.
package metrics

import (
	"net/http"
	"sort"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// ServiceName is the service_name label on every series (the OTel resource attribute on the Node side).
const ServiceName = "stream-processor-go"

// scopeName stands in for the OTel meter name the Node exporter puts in otel_scope_name, so a query
// grouping by it keeps working across both processors.
const scopeName = "tessera.stream-processor-go"

// Metric names as the Node services expose them (OTel name with dots as underscores, `_total` on counters).
const (
	PipelineEvents = "tessera_pipeline_events_total"
	DLQMessages    = "tessera_dlq_messages_total"
	ConsumerLag    = "messaging_kafka_consumer_lag"
)

// Outcomes of tessera_pipeline_events_total for stage "processor" (docs/metrics.md).
const (
	OutcomeProcessed = "processed"
	OutcomeDuplicate = "duplicate"
	OutcomeLate      = "late"
	OutcomePoison    = "poison"
	stageProcessor   = "processor"
)

// Batch is what one committed Kafka transaction did with the records it read.
type Batch struct {
	// Processed counts valid, first-seen events (late ones included, as on the Node side).
	Processed, Duplicates, Late, Poison int64
	// DeadLetters counts the dead letters written, by reason code (ANALYTICS.*).
	DeadLetters map[string]int64
}

// PartitionLag is one partition's distance between log end and the group's committed offset.
type PartitionLag struct {
	Topic     string
	Partition int32
	Lag       int64
}

// Metrics holds the processor's series in a registry of its own (not the global one), so tests and
// two processors in one test binary do not share counts.
type Metrics struct {
	registry    *prometheus.Registry
	events      *prometheus.CounterVec
	deadLetters *prometheus.CounterVec
	lag         *lagCollector
}

// New registers the series, plus the Go runtime and process collectors (memory against GOMEMLIMIT).
func New() *Metrics {
	reg := prometheus.NewRegistry()
	constant := prometheus.Labels{"service_name": ServiceName}
	scoped := prometheus.WrapRegistererWith(prometheus.Labels{"otel_scope_name": scopeName}, prometheus.WrapRegistererWith(constant, reg))
	m := &Metrics{
		registry: reg,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Name: PipelineEvents, Help: "Analytics events by pipeline stage and outcome"},
			[]string{"tessera_pipeline_stage", "tessera_pipeline_outcome"}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{Name: DLQMessages, Help: "Messages written to a dead-letter topic"},
			[]string{"messaging_destination_name", "messaging_consumer_group_name", "error_type"}),
		lag: &lagCollector{desc: prometheus.NewDesc(ConsumerLag, "Messages between the log end and the committed offset of a consumer group",
			[]string{"messaging_system", "messaging_consumer_group_name", "messaging_destination_name", "messaging_destination_partition_id"}, nil)},
	}
	scoped.MustRegister(m.events, m.deadLetters, m.lag)
	prometheus.WrapRegistererWith(constant, reg).MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Present at 0 from the start, so rate() has a first sample before the first event arrives.
	for _, o := range []string{OutcomeProcessed, OutcomeDuplicate, OutcomeLate, OutcomePoison} {
		m.events.WithLabelValues(stageProcessor, o)
	}
	return m
}

// Committed records a batch once its Kafka transaction committed (with its dead letters, which are
// acknowledged by that commit); an aborted batch is read again and must not count twice.
func (m *Metrics) Committed(sourceTopic, group string, b Batch) {
	for _, c := range []struct {
		outcome string
		n       int64
	}{{OutcomeProcessed, b.Processed}, {OutcomeDuplicate, b.Duplicates}, {OutcomeLate, b.Late}, {OutcomePoison, b.Poison}} {
		if c.n > 0 {
			m.events.WithLabelValues(stageProcessor, c.outcome).Add(float64(c.n))
		}
	}
	for code, n := range b.DeadLetters {
		if n > 0 {
			m.deadLetters.WithLabelValues(sourceTopic, group, code).Add(float64(n))
		}
	}
}

// SetLag replaces the lag series of group with lags (the last refresh wins; see LagMonitor).
func (m *Metrics) SetLag(group string, lags []PartitionLag) { m.lag.set(group, lags) }

// Handler serves the registry in the Prometheus text format (what VictoriaMetrics scrapes).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// lagCollector serves the lags cached by the last refresh: a scrape never waits on Kafka, and a
// refresh swaps the whole set at once (a GaugeVec Reset+Set would let a scrape see it half empty).
type lagCollector struct {
	desc  *prometheus.Desc
	mu    sync.Mutex
	group string
	lags  []PartitionLag
}

func (c *lagCollector) set(group string, lags []PartitionLag) {
	sorted := append([]PartitionLag(nil), lags...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Topic != sorted[j].Topic {
			return sorted[i].Topic < sorted[j].Topic
		}
		return sorted[i].Partition < sorted[j].Partition
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	c.group, c.lags = group, sorted
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.lags {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(l.Lag),
			"kafka", c.group, l.Topic, strconv.Itoa(int(l.Partition)))
	}
}

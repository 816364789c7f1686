package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// LagMonitor refreshes messaging_kafka_consumer_lag for one group on a timer, like libs/kafka's
// ConsumerLagMonitor: log-end offset (high watermark) minus committed offset, per topic/partition.
type LagMonitor struct {
	Admin    *kadm.Client
	Group    string
	Topics   []string
	Interval time.Duration
	Metrics  *Metrics
	Log      *slog.Logger
}

// Run refreshes at once and then every Interval until ctx ends. A failed refresh keeps the previous
// values and logs a warning: lag is an observation, never a reason to stop processing.
func (m *LagMonitor) Run(ctx context.Context) {
	t := time.NewTicker(m.Interval)
	defer t.Stop()
	for {
		if err := m.Refresh(ctx); err != nil && ctx.Err() == nil {
			m.Log.Warn("consumer lag refresh failed", "group", m.Group, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Refresh fetches committed and end offsets once and publishes the lags.
func (m *LagMonitor) Refresh(ctx context.Context) error {
	lags, err := m.fetch(ctx)
	if err != nil {
		return err
	}
	m.Metrics.SetLag(m.Group, lags)
	return nil
}

func (m *LagMonitor) fetch(ctx context.Context) ([]PartitionLag, error) {
	committed, err := m.Admin.FetchOffsetsForTopics(ctx, m.Group, m.Topics...)
	if err != nil {
		return nil, fmt.Errorf("committed offsets of %s: %w", m.Group, err)
	}
	if err := committed.Error(); err != nil {
		return nil, fmt.Errorf("committed offsets of %s: %w", m.Group, err)
	}
	ends, err := m.Admin.ListEndOffsets(ctx, m.Topics...)
	if err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("end offsets: %w", err)
	}
	starts, err := m.Admin.ListStartOffsets(ctx, m.Topics...)
	if err != nil {
		return nil, fmt.Errorf("start offsets: %w", err)
	}
	var lags []PartitionLag
	ends.Each(func(end kadm.ListedOffset) {
		at := int64(-1)
		if c, ok := committed.Lookup(end.Topic, end.Partition); ok {
			at = c.At
		}
		start := int64(0)
		if s, ok := starts.Lookup(end.Topic, end.Partition); ok && s.Err == nil {
			start = s.Offset
		}
		lags = append(lags, PartitionLag{Topic: end.Topic, Partition: end.Partition, Lag: Lag(end.Offset, start, at)})
	})
	return lags, nil
}

// Lag is end minus committed; a group that never committed (committed < 0) lags by the whole retained
// log (end minus log start), as computeLag in libs/kafka does. Never negative.
func Lag(end, start, committed int64) int64 {
	from := committed
	if from < 0 {
		from = start
	}
	return max(0, end-from)
}

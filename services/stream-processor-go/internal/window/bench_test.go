package window

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkStoreAddFlush: the stage's hot path without Kafka, a backlog-like stream (8 tenants x 4 streams, country and
// plan dimensions, 500 events per flush as one fetched batch). go test -bench StoreAddFlush -cpuprofile cpu.out ./internal/window
func BenchmarkStoreAddFlush(b *testing.B) { benchmarkAddFlush(b, 500, 500) }

// BenchmarkStoreLiveFlush: live load instead, 3,000 events per second of event time (so the 2-minute dedupe holds up
// to 360k ids) flushed every 50 events (a poll returns a few dozen records): what a flush costs beyond its events (the
// held state it walks, the changed windows' state it writes) dominates here. Run it with -benchtime 400000x so the
// dedupe fills.
func BenchmarkStoreLiveFlush(b *testing.B) { benchmarkAddFlush(b, 50, 3000) }

func benchmarkAddFlush(b *testing.B, every, eventsPerSecond int) {
	cfg := testConfig()
	cfg.Dimensions = []string{"country", "plan"}
	cfg.DedupHorizon = 2 * time.Minute
	countries := []string{"US", "DE", "GB", "IN", "FR", "BR", "JP"}
	s := NewStore(cfg, time.Now())
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e := Event{ID: fmt.Sprint("e", i), Tenant: fmt.Sprint("t", i%8), Stream: fmt.Sprint("s", i%4), TimeMs: base + int64(i)*1000/int64(eventsPerSecond),
			Measurements: []Measurement{{Metric: "page.view", Value: float64(50 + (i*7919)%900)}}, Attributes: map[string]string{"country": countries[i%7], "plan": []string{"free", "pro"}[i%2], "user_id": fmt.Sprint("u", i%5000)}}
		s.Add(e, now)
		if i%every == every-1 {
			s.Flush(now)
		}
	}
}

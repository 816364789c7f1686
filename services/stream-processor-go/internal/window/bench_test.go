package window

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkStoreAddFlush: the stage's hot path without Kafka, a backlog-like stream (8 tenants x 4 streams, country and
// plan dimensions, 500 events per flush as one fetched batch). go test -bench StoreAddFlush -cpuprofile cpu.out ./internal/window
func BenchmarkStoreAddFlush(b *testing.B) {
	cfg := testConfig()
	cfg.Dimensions = []string{"country", "plan"}
	cfg.DedupHorizon = 2 * time.Minute
	countries := []string{"US", "DE", "GB", "IN", "FR", "BR", "JP"}
	s := NewStore(cfg, time.Now())
	now := time.Now()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		e := Event{ID: fmt.Sprint("e", i), Tenant: fmt.Sprint("t", i%8), Stream: fmt.Sprint("s", i%4), TimeMs: base + int64(i)*2,
			Measurements: []Measurement{{Metric: "page.view", Value: float64(50 + (i*7919)%900)}}, Attributes: map[string]string{"country": countries[i%7], "plan": []string{"free", "pro"}[i%2], "user_id": fmt.Sprint("u", i%5000)}}
		s.Add(e, now)
		if i%500 == 499 {
			s.Flush(now)
		}
	}
}

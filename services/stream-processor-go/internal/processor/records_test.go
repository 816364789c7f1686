package processor

import (
	"testing"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The aggregate record carries the headers the Node processor sets (output.messages.ts): the envelope's ce_*
// fields, tenant-id and, for a traced batch, traceparent.
func TestAggregateRecordHeadersMatchTheNodeProcessor(t *testing.T) {
	agg := &analyticsv1.WindowAggregate{TenantId: "acme", WindowKey: "acme|web|purchase|total||10|10|1000", Revision: 3, ComputedAt: timestamppb.Now()}
	tp := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	rec, err := aggregateRecord("analytics.aggregates.v1", agg, map[string]string{TraceparentHeader: tp})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range rec.Headers {
		got[h.Key] = string(h.Value)
	}
	want := map[string]string{
		"tenant-id": "acme", "ce_id": agg.WindowKey + "#3", "ce_type": windowAggregateType, "ce_source": "stream-processor-go",
		"ce_subject": agg.WindowKey, "content-type": "application/protobuf", TraceparentHeader: tp,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("header %s = %q, want %q", k, got[k], v)
		}
	}
	if string(rec.Key) != agg.WindowKey {
		t.Errorf("key %q, want the window key", rec.Key)
	}
}

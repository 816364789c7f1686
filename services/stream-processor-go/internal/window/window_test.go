package window

import (
	"encoding/json"
	"fmt"
	"github.com/tessera/tessera/services/stream-processor-go/internal/sketch"
	"math"
	"testing"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
)

func testConfig() *Config {
	specs, err := ParseSpecs("10s,60s,60s/10s")
	if err != nil {
		panic(err)
	}
	return &Config{
		Windows: specs, Dimensions: []string{"country"}, DistinctKey: "user_id",
		AllowedLateness: 30 * time.Second, WatermarkDelay: 5 * time.Second, IdleTimeout: time.Hour,
		DedupHorizon: 10 * time.Minute, ClosedRetention: time.Minute, Producer: "stream-processor-go",
	}
}

// base is a minute boundary, so 10 s and 60 s windows both start there.
var base = time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC).UnixMilli()

func ev(id string, offsetMs int64, value float64, attrs map[string]string) Event {
	return Event{ID: id, Tenant: "acme", Stream: "web", TimeMs: base + offsetMs, Measurements: []Measurement{{Metric: "page.view", Value: value}}, Attributes: attrs}
}

func byKey(aggs []*analyticsv1.WindowAggregate) map[string]*analyticsv1.WindowAggregate {
	m := map[string]*analyticsv1.WindowAggregate{}
	for _, a := range aggs {
		m[a.WindowKey] = a
	}
	return m
}

func keysOf(aggs []*analyticsv1.WindowAggregate) []string {
	var keys []string
	for _, a := range aggs {
		keys = append(keys, a.WindowKey)
	}
	return keys
}

func TestParseSpecs(t *testing.T) {
	specs, err := ParseSpecs("10s, 60s/10s")
	if err != nil || len(specs) != 2 || specs[1].Slide != 10*time.Second || specs[0].Slide != specs[0].Size {
		t.Fatalf("got %v, %v", specs, err)
	}
	for _, bad := range []string{"", "10x", "60s/7s", "10s/20s", "1500ms", "0s"} {
		if _, err := ParseSpecs(bad); err == nil {
			t.Errorf("ParseSpecs(%q) accepted", bad)
		}
	}
}

func TestSpecStarts(t *testing.T) {
	tumbling := Spec{Size: 10 * time.Second, Slide: 10 * time.Second}
	if got := tumbling.Starts(25_000); len(got) != 1 || got[0] != 20_000 {
		t.Errorf("tumbling: %v", got)
	}
	if got := tumbling.Starts(-1); got[0] != -10_000 {
		t.Errorf("before the epoch: %v", got)
	}
	hopping := Spec{Size: 60 * time.Second, Slide: 10 * time.Second}
	got := hopping.Starts(65_000)
	if len(got) != 6 || got[0] != 10_000 || got[5] != 60_000 {
		t.Errorf("hopping: %v", got)
	}
	for _, s := range got {
		if !(s <= 65_000 && 65_000 < s+60_000) {
			t.Errorf("window %d does not contain the event", s)
		}
	}
}

func TestKeyString(t *testing.T) {
	k := Key{Tenant: "acme", Stream: "web", Metric: "page.view", DimKey: "", DimValue: "", SizeSec: 60, SlideSec: 10, StartMs: 1000}
	if got, want := k.String(), "acme|web|page.view|=|60|10|1000"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestStoreAggregatesExactly(t *testing.T) {
	s := NewStore(testConfig(), time.Now())
	s.Add(ev("a", 1_000, 3, map[string]string{"country": "DE", "user_id": "u1"}), time.Now())
	s.Add(ev("b", 2_000, -1.5, map[string]string{"country": "FR", "user_id": "u2"}), time.Now())
	s.Add(ev("c", 9_999, 10, map[string]string{"country": "DE", "user_id": "u1"}), time.Now())
	s.Add(ev("d", 10_000, 100, nil), time.Now()) // next 10 s window
	out := s.Flush(time.Now())
	aggs := byKey(out.Aggregates)

	total10 := aggs[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 10, SlideSec: 10, StartMs: base}.String()]
	if total10 == nil {
		t.Fatalf("no 10 s total window in %d aggregates", len(out.Aggregates))
	}
	if total10.Count != 3 || total10.Sum != 11.5 || total10.Min != -1.5 || total10.Max != 10 || total10.DistinctCount != 2 {
		t.Errorf("10 s total: %+v", total10)
	}
	if got := total10.GetMaxEventTime().AsTime().UnixMilli(); got != base+9_999 {
		t.Errorf("10 s total max_event_time: %d, want base+9999", got-base)
	}
	if total10.Revision != 1 || total10.Final || total10.Producer != "stream-processor-go" {
		t.Errorf("revision/final/producer: %d %v %q", total10.Revision, total10.Final, total10.Producer)
	}
	de := aggs[Key{Tenant: "acme", Stream: "web", Metric: "page.view", DimKey: "country", DimValue: "DE", SizeSec: 10, SlideSec: 10, StartMs: base}.String()]
	if de == nil || de.Count != 2 || de.Sum != 13 {
		t.Errorf("DE: %+v", de)
	}
	total60 := aggs[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 60, SlideSec: 60, StartMs: base}.String()]
	if total60 == nil || total60.Count != 4 || total60.Sum != 111.5 || total60.Max != 100 || total60.GetMaxEventTime().AsTime().UnixMilli() != base+10_000 {
		t.Errorf("60 s total: %+v", total60)
	}
	// 4 events: the hopping 60/10 windows containing base+1s are the 6 starting base-50s..base.
	hop := aggs[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 60, SlideSec: 10, StartMs: base - 50_000}.String()]
	if hop == nil || hop.Count != 3 {
		t.Errorf("oldest hopping window: %+v", hop)
	}
	hopLatest := aggs[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 60, SlideSec: 10, StartMs: base + 10_000}.String()]
	if hopLatest == nil || hopLatest.Count != 1 {
		t.Errorf("newest hopping window: %+v", hopLatest)
	}
}

func TestStorePercentilesWithinSketchAccuracy(t *testing.T) {
	s := NewStore(testConfig(), time.Now())
	for i := 1; i <= 1000; i++ {
		s.Add(ev(string(rune('a'))+time.Duration(i).String(), 100, float64(i), nil), time.Now())
	}
	agg := byKey(s.Flush(time.Now()).Aggregates)[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 10, SlideSec: 10, StartMs: base}.String()]
	for _, c := range []struct{ got, want float64 }{{agg.P50Approx, 500}, {agg.P95Approx, 950}, {agg.P99Approx, 990}} {
		if math.Abs(c.got-c.want)/c.want > 0.02 {
			t.Errorf("percentile %v, want ~%v", c.got, c.want)
		}
	}
}

func TestStoreDeduplicatesByEventID(t *testing.T) {
	s := NewStore(testConfig(), time.Now())
	if got, _ := s.Add(ev("same", 1_000, 5, nil), time.Now()); got != Aggregated {
		t.Fatal("first delivery not aggregated")
	}
	if got, _ := s.Add(ev("same", 1_000, 5, nil), time.Now()); got != Duplicate {
		t.Fatal("redelivery not detected")
	}
	agg := byKey(s.Flush(time.Now()).Aggregates)[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 10, SlideSec: 10, StartMs: base}.String()]
	if agg.Count != 1 || agg.Sum != 5 {
		t.Errorf("duplicate counted: %+v", agg)
	}
}

func TestStoreWatermarkLatenessAndFinal(t *testing.T) {
	s := NewStore(testConfig(), time.Now())
	k10 := Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 10, SlideSec: 10, StartMs: base}.String()
	s.Add(ev("a", 1_000, 1, nil), time.Now())
	s.Flush(time.Now())

	// Watermark = 44 s - 5 s = 39 s < 10 s + 30 s lateness: the first window still accepts late events.
	s.Add(ev("b", 44_000, 1, nil), time.Now())
	if got, _ := s.Add(ev("late-ok", 2_000, 7, nil), time.Now()); got != Aggregated {
		t.Fatal("event within allowed lateness rejected")
	}
	agg := byKey(s.Flush(time.Now()).Aggregates)[k10]
	if agg == nil || agg.Count != 2 || agg.Final || agg.Revision != 2 {
		t.Fatalf("late-but-allowed update: %+v", agg)
	}

	// Watermark 45 s >= 40 s: the 10 s window becomes final (no new data, one final revision).
	s.Add(ev("c", 50_000, 1, nil), time.Now())
	out := s.Flush(time.Now())
	agg = byKey(out.Aggregates)[k10]
	if agg == nil || !agg.Final || agg.Count != 2 || agg.Revision != 3 {
		t.Fatalf("final revision: %+v", agg)
	}
	// Closed: exactly the windows this flush finalised, the 10 s one and the 60 s/10 s hop ending with it
	// (the other 60 s windows are still open).
	hop := Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 60, SlideSec: 10, StartMs: base - 50_000}.String()
	if got := keysOf(out.Closed); len(got) != 2 || got[0] != k10 || got[1] != hop || out.Closed[0] != agg || !out.Closed[1].Final {
		t.Fatalf("closed by this flush: %v, want [%s %s]", got, k10, hop)
	}
	// Too late for the 10 s window, but the 60 s windows are still open: aggregated there, late here.
	// Since issue #15 (the TS rule) the outcome is Late: the event goes to the DLQ as LATE, and still counts in the
	// windows it was on time for.
	if got, late := s.Add(ev("too-late-10s", 3_000, 1000, nil), time.Now()); got != Late || late.Windows != 2 || late.First != k10 {
		t.Fatalf("outcome %v %+v, want Late for the 10 s window and its dimension-less hop", got, late)
	}
	out = s.Flush(time.Now())
	agg = byKey(out.Aggregates)[k10]
	if agg == nil || agg.Count != 2 || agg.LateEvents != 1 || !agg.Final || agg.Revision != 4 {
		t.Fatalf("late count on the final window: %+v", agg)
	}
	if len(out.Closed) != 0 { // a new final revision of an already closed window is not a close
		t.Fatalf("closed again: %v", keysOf(out.Closed))
	}
	if got := agg.GetMaxEventTime().AsTime().UnixMilli(); got != base+2_000 { // the too-late event (3 s) was not aggregated
		t.Fatalf("max_event_time of the final window moved by a late event: base+%d", got-base)
	}
	// Far ahead: every window of base is past its lateness; an event there is too late everywhere.
	s.Add(ev("d", 10*60_000, 1, nil), time.Now())
	s.Flush(time.Now())
	if got, late := s.Add(ev("too-late", 4_000, 1, nil), time.Now()); got != Late || late.Windows == 0 {
		t.Fatalf("outcome %v, want Late", got)
	}
}

func TestStoreIdlenessCountsFromTheEndOfARestore(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = 2 * time.Second
	// A restart two hours after the events (a backlog): the wall clock is far past every window.
	created := time.UnixMilli(base + 2*3600*1000)
	s := NewStore(cfg, created)
	s.Add(ev("a", 1_000, 1, nil), created)
	// The changelog took 5 s to read: without Restored the store would be idle (6 s > 2 s) at the first flush.
	restored := created.Add(5 * time.Second)
	s.Restored(restored)
	for _, a := range s.Flush(restored.Add(time.Second)).Aggregates {
		if a.Final {
			t.Fatal("a window closed for idleness one second after the restore")
		}
	}
	if got, _ := s.Add(ev("b", 2_000, 1, nil), restored.Add(time.Second)); got != Aggregated {
		t.Fatalf("an event of the backlog after a slow restore: %v, want Aggregated", got)
	}
}

func TestStoreIdleWatermarkFollowsWallClock(t *testing.T) {
	cfg := testConfig()
	cfg.IdleTimeout = 2 * time.Second
	start := time.UnixMilli(base + 1_000)
	s := NewStore(cfg, start)
	s.Add(ev("a", 1_000, 1, nil), start)
	if aggs := s.Flush(start.Add(time.Second)).Aggregates; len(aggs) == 0 || aggs[0].Final {
		t.Fatal("window final before idleness")
	}
	// Idle long enough, and the wall clock is past every window end + lateness.
	var finals int
	for _, a := range s.Flush(start.Add(5 * time.Minute)).Aggregates {
		if a.Final {
			finals++
		}
	}
	if finals != 1+1+6 { // 10 s, 60 s and six hopping windows (total dimension only)
		t.Fatalf("finals after idleness: %d", finals)
	}
	// Retention passed too: final windows are evicted with tombstones.
	out := s.Flush(start.Add(time.Hour))
	var tombstones int
	for _, r := range out.State {
		if r.Value == nil {
			tombstones++
		}
	}
	if s.OpenWindows() != 0 || tombstones < 8 {
		t.Fatalf("open %d, tombstones %d", s.OpenWindows(), tombstones)
	}
}

func TestStoreRestoresFromItsChangelog(t *testing.T) {
	cfg := testConfig()
	s := NewStore(cfg, time.Now())
	var log []StateRecord
	s.Add(ev("a", 1_000, 2, map[string]string{"user_id": "u1"}), time.Now())
	log = append(log, s.Flush(time.Now()).State...)
	s.Add(ev("b", 2_000, 4, map[string]string{"user_id": "u2"}), time.Now())
	log = append(log, s.Flush(time.Now()).State...)

	r := NewStore(cfg, time.Now())
	for _, rec := range log {
		if err := r.Restore(rec.Key, rec.Value); err != nil {
			t.Fatal(err)
		}
	}
	if legacy, err := r.FinishRestore(); err != nil || legacy != 0 {
		t.Fatal(legacy, err)
	}
	if r.Watermark() != s.Watermark() {
		t.Errorf("watermark %d != %d", r.Watermark(), s.Watermark())
	}
	if got, _ := r.Add(ev("a", 1_000, 2, nil), time.Now()); got != Duplicate {
		t.Error("dedup ids not restored")
	}
	r.Add(ev("c", 1_500, 6, map[string]string{"user_id": "u3"}), time.Now()) // older than the restored max (2 s)
	agg := byKey(r.Flush(time.Now()).Aggregates)[Key{Tenant: "acme", Stream: "web", Metric: "page.view", SizeSec: 10, SlideSec: 10, StartMs: base}.String()]
	if agg.Count != 3 || agg.Sum != 12 || agg.Min != 2 || agg.Max != 6 || agg.Revision != 3 || agg.DistinctCount != 3 {
		t.Errorf("restored window continued wrongly: %+v", agg)
	}
	if got := agg.GetMaxEventTime().AsTime().UnixMilli(); got != base+2_000 {
		t.Errorf("restored max_event_time: base+%d, want base+2000", got-base)
	}
}

func TestAccumulatorFromStateWithoutMaxEventTimeLeavesItUnset(t *testing.T) {
	a := newAccumulator(Sketches{})
	a.Add(1, nil, base)
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	if _, ok := st["maxEventMs"]; !ok {
		t.Fatalf("state lacks maxEventMs: %s", b)
	}
	delete(st, "maxEventMs") // as written before the field existed
	legacy, _ := json.Marshal(st)
	r, _, err := UnmarshalAccumulator(legacy, Sketches{})
	if err != nil {
		t.Fatal(err)
	}
	r.Add(2, nil, base+5_000)
	if ms, ok := r.MaxEventTime(); ok {
		t.Fatalf("max event time %d from only the events after the restore", ms)
	}
}

func TestVersionOneStateRestoresCountsWithFreshSketches(t *testing.T) {
	// As the stage wrote it before issue #15: sketches-go / axiomhq binary sketches, no "v".
	v1 := []byte(`{"count":3,"sum":12,"min":2,"max":6,"late":0,"revision":2,"final":false,"maxEventMs":1000,"sketch":"AgAB","hll":"AQ=="}`)
	a, legacy, err := UnmarshalAccumulator(v1, Sketches{})
	if err != nil || !legacy {
		t.Fatalf("legacy %v, err %v", legacy, err)
	}
	if a.Count != 3 || a.Sum != 12 || a.Revision != 2 || a.Distinct() != 0 {
		t.Fatalf("restored %+v, distinct %d", a, a.Distinct())
	}
	a.Add(5, nil, 2000)
	if q := a.Quantiles(0.5); q[0] < 4.9 || q[0] > 5.1 {
		t.Fatalf("fresh sketch p50 %v", q)
	}
}

func TestStateRoundTripKeepsTheSketches(t *testing.T) {
	a := newAccumulator(Sketches{})
	for i := 1; i <= 500; i++ {
		h := sketch.HashOf(fmt.Sprint("u", i%97))
		a.Add(float64(i), &h, base)
	}
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	r, legacy, err := UnmarshalAccumulator(b, Sketches{})
	if err != nil || legacy {
		t.Fatal(legacy, err)
	}
	if fmt.Sprint(r.Quantiles(0.5, 0.95, 0.99), r.Distinct()) != fmt.Sprint(a.Quantiles(0.5, 0.95, 0.99), a.Distinct()) {
		t.Fatalf("restored %v %d, had %v %d", r.Quantiles(0.5, 0.95, 0.99), r.Distinct(), a.Quantiles(0.5, 0.95, 0.99), a.Distinct())
	}
}

// The hand-written state encoding writes exactly what encoding/json writes for accumulatorStateOut.
func TestStateEncodingMatchesEncodingJSON(t *testing.T) {
	a := newAccumulator(Sketches{})
	for i, v := range []float64{1e-7, 3, -2.5, 1e21, 123456.789, 0, -1e300, 5e-324} {
		h := sketch.HashOf(fmt.Sprint("u", i))
		a.Add(v, &h, base+int64(i))
	}
	got, _ := a.MarshalBinary()
	want, _ := json.Marshal(a.stateOut())
	if string(got) != string(want) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	empty := newAccumulator(Sketches{})
	got, _ = empty.MarshalBinary()
	want, _ = json.Marshal(empty.stateOut())
	if string(got) != string(want) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

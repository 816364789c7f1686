package window

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/DataDog/sketches-go/ddsketch"
	"github.com/DataDog/sketches-go/ddsketch/store"
	"github.com/axiomhq/hyperloglog"
)

// SketchRelativeAccuracy bounds the percentile error: a reported p99 is within 1% of a true value.
const SketchRelativeAccuracy = 0.01

// maxSketchBins caps a sketch at a few KB; collapsing the lowest bins keeps the high percentiles exact-ish.
const maxSketchBins = 2048

// Accumulator is the running state of one window.
type Accumulator struct {
	Count    int64
	Sum      float64
	Min      float64
	Max      float64
	Late     int64
	Revision int64
	// Final is set once the watermark passed end + allowed lateness and the final revision was emitted.
	Final bool
	// MaxEventMs is the newest event time (epoch ms) folded in: where event-to-visible latency is measured
	// from. math.MinInt64 before the first event and when unknown (see maxEventUnknown).
	MaxEventMs int64
	// maxEventUnknown: restored from a changelog written before MaxEventMs was tracked; a max over only the
	// events after the restore would be wrong, so it stays unset in the emitted aggregate.
	maxEventUnknown bool
	sketch          *ddsketch.DDSketch
	hll             *hyperloglog.Sketch
}

// collapsingStore matches the store newAccumulator's sketches use, so a restored sketch keeps the bin cap.
var collapsingStore = store.Provider(func() store.Store { return store.NewCollapsingLowestDenseStore(maxSketchBins) })

func newAccumulator() *Accumulator {
	sk, err := ddsketch.LogCollapsingLowestDenseDDSketch(SketchRelativeAccuracy, maxSketchBins)
	if err != nil {
		panic(err) // constant arguments: cannot fail
	}
	return &Accumulator{Min: math.Inf(1), Max: math.Inf(-1), MaxEventMs: math.MinInt64, sketch: sk, hll: hyperloglog.New14()}
}

// Add folds one value (and its distinct-count identity, "" for none) at event time timeMs into the window.
func (a *Accumulator) Add(value float64, distinct string, timeMs int64) {
	a.Count++
	a.MaxEventMs = max(a.MaxEventMs, timeMs)
	a.Sum += value
	a.Min = math.Min(a.Min, value)
	a.Max = math.Max(a.Max, value)
	_ = a.sketch.Add(value) // only fails for values outside ±1e300-ish, which validation rejects
	if distinct != "" {
		a.hll.Insert([]byte(distinct))
	}
}

// Quantile is the sketch's estimate, 0 for an empty window.
func (a *Accumulator) Quantile(q float64) float64 {
	if a.sketch.IsEmpty() {
		return 0
	}
	v, err := a.sketch.GetValueAtQuantile(q)
	if err != nil {
		return 0
	}
	return v
}

// MaxEventTime is the newest event time folded in; ok is false for an empty window or when unknown.
func (a *Accumulator) MaxEventTime() (ms int64, ok bool) {
	return a.MaxEventMs, a.Count > 0 && !a.maxEventUnknown && a.MaxEventMs != math.MinInt64
}

// Distinct is the HyperLogLog estimate.
func (a *Accumulator) Distinct() int64 { return int64(a.hll.Estimate()) }

// accumulatorState is the changelog encoding; sketches are kept in their own binary formats.
type accumulatorState struct {
	Count    int64   `json:"count"`
	Sum      float64 `json:"sum"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Late     int64   `json:"late"`
	Revision int64   `json:"revision"`
	Final    bool    `json:"final"`
	// MaxEventMs is absent (nil) in changelogs written before it was tracked.
	MaxEventMs *int64 `json:"maxEventMs,omitempty"`
	Sketch     []byte `json:"sketch"`
	HLL        []byte `json:"hll"`
}

// MarshalBinary encodes the accumulator for the state changelog.
func (a *Accumulator) MarshalBinary() ([]byte, error) {
	var sk []byte
	a.sketch.Encode(&sk, false)
	hll, err := a.hll.MarshalBinary()
	if err != nil {
		return nil, err
	}
	st := accumulatorState{Count: a.Count, Sum: a.Sum, Min: a.Min, Max: a.Max, Late: a.Late, Revision: a.Revision, Final: a.Final, Sketch: sk, HLL: hll}
	if ms, ok := a.MaxEventTime(); ok {
		st.MaxEventMs = &ms
	}
	if a.Count == 0 { // ±Inf is not JSON
		st.Min, st.Max = 0, 0
	}
	return json.Marshal(st)
}

// UnmarshalAccumulator decodes what MarshalBinary wrote.
func UnmarshalAccumulator(b []byte) (*Accumulator, error) {
	var st accumulatorState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("accumulator state: %w", err)
	}
	sk, err := ddsketch.DecodeDDSketch(st.Sketch, collapsingStore, nil)
	if err != nil {
		return nil, fmt.Errorf("accumulator sketch: %w", err)
	}
	hll := hyperloglog.New14()
	if err := hll.UnmarshalBinary(st.HLL); err != nil {
		return nil, fmt.Errorf("accumulator hll: %w", err)
	}
	a := &Accumulator{Count: st.Count, Sum: st.Sum, Min: st.Min, Max: st.Max, Late: st.Late, Revision: st.Revision, Final: st.Final,
		MaxEventMs: math.MinInt64, maxEventUnknown: st.MaxEventMs == nil && st.Count > 0, sketch: sk, hll: hll}
	if st.MaxEventMs != nil {
		a.MaxEventMs = *st.MaxEventMs
	}
	if a.Count == 0 {
		a.Min, a.Max = math.Inf(1), math.Inf(-1)
	}
	return a, nil
}

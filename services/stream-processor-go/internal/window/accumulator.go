package window

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/tessera/tessera/services/stream-processor-go/internal/sketch"
)

// Sketch parameters, the TS stage's defaults (STREAM_PROCESSOR_SKETCH_ALPHA, STREAM_PROCESSOR_HLL_PRECISION): a
// reported p99 is within 1% of a true value; 2^11 registers give ~2.3% standard error on distinct counts.
const (
	DefaultSketchAlpha  = 0.01
	DefaultHLLPrecision = 11
)

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
	sketch          *sketch.DDSketch
	hll             *sketch.HyperLogLog
}

// Sketches are the parameters of a window's sketches (validated by config: alpha in (0, 1), precision 4..16).
type Sketches struct {
	Alpha        float64
	HLLPrecision int
}

func (p Sketches) orDefaults() Sketches {
	if p.Alpha == 0 {
		p.Alpha = DefaultSketchAlpha
	}
	if p.HLLPrecision == 0 {
		p.HLLPrecision = DefaultHLLPrecision
	}
	return p
}

func newAccumulator(p Sketches) *Accumulator {
	p = p.orDefaults()
	sk, err := sketch.NewDDSketch(p.Alpha)
	if err != nil {
		panic(err) // validated by config
	}
	hll, err := sketch.NewHyperLogLog(p.HLLPrecision)
	if err != nil {
		panic(err) // validated by config
	}
	return &Accumulator{Min: math.Inf(1), Max: math.Inf(-1), MaxEventMs: math.MinInt64, sketch: sk, hll: hll}
}

// Add folds one value (and the hash of its distinct-count identity, nil for none) at event time timeMs into the window.
func (a *Accumulator) Add(value float64, distinct *sketch.Hash, timeMs int64) {
	a.Count++
	a.MaxEventMs = max(a.MaxEventMs, timeMs)
	a.Sum += value
	a.Min = math.Min(a.Min, value)
	a.Max = math.Max(a.Max, value)
	_ = a.sketch.Add(value) // only fails for NaN and infinities, which validation rejects
	if distinct != nil {
		a.hll.AddHash(*distinct)
	}
}

// Quantiles are the sketch's estimates (the TS stage asks for p50, p95, p99 in one pass), 0 each for an empty window.
func (a *Accumulator) Quantiles(qs ...float64) []float64 {
	out := a.sketch.Quantiles(qs...)
	for i, v := range out {
		if math.IsNaN(v) {
			out[i] = 0
		}
	}
	return out
}

// MaxEventTime is the newest event time folded in; ok is false for an empty window or when unknown.
func (a *Accumulator) MaxEventTime() (ms int64, ok bool) {
	return a.MaxEventMs, a.Count > 0 && !a.maxEventUnknown && a.MaxEventMs != math.MinInt64
}

// Distinct is the HyperLogLog estimate.
func (a *Accumulator) Distinct() int64 { return a.hll.Estimate() }

// stateVersion 2: the sketches in the TS stage's JSON (issue #15). Version 1 (no "v") held sketches-go and axiomhq
// binary sketches, which cannot be converted: such a window is restored with its count, sum, min, max and revision,
// and sketches that cover only the events after the upgrade (logged by the store once per restore).
const stateVersion = 2

// stateFields are the window's numbers in the changelog encoding (embedded: encoding/json writes them inline).
type stateFields struct {
	Count    int64   `json:"count"`
	Sum      float64 `json:"sum"`
	Min      float64 `json:"min"`
	Max      float64 `json:"max"`
	Late     int64   `json:"late"`
	Revision int64   `json:"revision"`
	Final    bool    `json:"final"`
	// MaxEventMs is absent (nil) in changelogs written before it was tracked.
	MaxEventMs *int64 `json:"maxEventMs,omitempty"`
}

// accumulatorState is the changelog encoding as read (the sketches are decoded by version, see UnmarshalAccumulator).
type accumulatorState struct {
	V int `json:"v,omitempty"`
	stateFields
	Sketch json.RawMessage `json:"sketch"`
	HLL    json.RawMessage `json:"hll"`
}

// accumulatorStateOut is what MarshalBinary writes: the same fields with the sketches as typed values (written by
// appendState in one pass; as json.RawMessage each was encoded, then validated and compacted again by every enclosing
// Marshal: a third of the stage's CPU on a backlog).
type accumulatorStateOut struct {
	V int `json:"v"`
	stateFields
	Sketch sketch.DDSketchJSON    `json:"sketch"`
	HLL    sketch.HyperLogLogJSON `json:"hll"`
}

// stateOut is the state with its sketches as values (what appendState writes; the tests compare the two).
func (a *Accumulator) stateOut() accumulatorStateOut {
	st := a.stateHeader()
	st.Sketch, st.HLL = a.sketch.JSON(), a.hll.JSON()
	return st
}

// stateHeader is the state without its sketches.
func (a *Accumulator) stateHeader() accumulatorStateOut {
	st := accumulatorStateOut{V: stateVersion, stateFields: stateFields{Count: a.Count, Sum: a.Sum, Min: a.Min, Max: a.Max, Late: a.Late, Revision: a.Revision, Final: a.Final}}
	if ms, ok := a.MaxEventTime(); ok {
		st.MaxEventMs = &ms
	}
	if a.Count == 0 { // ±Inf is not JSON
		st.Min, st.Max = 0, 0
	}
	return st
}

// MarshalBinary encodes the accumulator for the state changelog.
func (a *Accumulator) MarshalBinary() ([]byte, error) { return a.appendState(nil), nil }

// appendState appends the accumulatorStateOut JSON (what json.Marshal would write: the tests compare) to b.
func (a *Accumulator) appendState(b []byte) []byte {
	st := a.stateHeader()
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(st.V), 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, st.Count, 10)
	b = append(b, `,"sum":`...)
	b = appendFloat(b, st.Sum)
	b = append(b, `,"min":`...)
	b = appendFloat(b, st.Min)
	b = append(b, `,"max":`...)
	b = appendFloat(b, st.Max)
	b = append(b, `,"late":`...)
	b = strconv.AppendInt(b, st.Late, 10)
	b = append(b, `,"revision":`...)
	b = strconv.AppendInt(b, st.Revision, 10)
	b = append(b, `,"final":`...)
	b = strconv.AppendBool(b, st.Final)
	if st.MaxEventMs != nil {
		b = append(b, `,"maxEventMs":`...)
		b = strconv.AppendInt(b, *st.MaxEventMs, 10)
	}
	b = a.sketch.AppendJSON(append(b, `,"sketch":`...))
	b = a.hll.AppendJSON(append(b, `,"hll":`...))
	return append(b, '}')
}

// appendFloat writes a float64 as encoding/json does ('f' in [1e-6, 1e21), else 'e' with a trimmed exponent).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// UnmarshalAccumulator decodes what MarshalBinary wrote; legacy reports a version-1 record (sketches restarted empty).
func UnmarshalAccumulator(b []byte, p Sketches) (a *Accumulator, legacy bool, err error) {
	var st accumulatorState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, false, fmt.Errorf("accumulator state: %w", err)
	}
	fresh := newAccumulator(p)
	sk, hll := fresh.sketch, fresh.hll
	legacy = st.V < stateVersion
	if !legacy {
		var skJSON sketch.DDSketchJSON
		if err := json.Unmarshal(st.Sketch, &skJSON); err != nil {
			return nil, false, fmt.Errorf("accumulator sketch: %w", err)
		}
		if sk, err = sketch.DDSketchFromJSON(skJSON); err != nil {
			return nil, false, fmt.Errorf("accumulator sketch: %w", err)
		}
		var hllJSON sketch.HyperLogLogJSON
		if err := json.Unmarshal(st.HLL, &hllJSON); err != nil {
			return nil, false, fmt.Errorf("accumulator hll: %w", err)
		}
		if hll, err = sketch.HyperLogLogFromJSON(hllJSON); err != nil {
			return nil, false, fmt.Errorf("accumulator hll: %w", err)
		}
	}
	a = &Accumulator{Count: st.Count, Sum: st.Sum, Min: st.Min, Max: st.Max, Late: st.Late, Revision: st.Revision, Final: st.Final,
		MaxEventMs: math.MinInt64, maxEventUnknown: st.MaxEventMs == nil && st.Count > 0, sketch: sk, hll: hll}
	if st.MaxEventMs != nil {
		a.MaxEventMs = *st.MaxEventMs
	}
	if a.Count == 0 {
		a.Min, a.Max = math.Inf(1), math.Inf(-1)
	}
	return a, legacy, nil
}

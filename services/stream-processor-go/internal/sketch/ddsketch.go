// Package sketch holds the two sketches of a window aggregate, bit for bit the TS stream processor's
// (services/stream-processor/src/sketches): the same DDSketch (alpha 1%, at most 2048 bins per sign, lowest collapse)
// and the same HyperLogLog (md5, precision 11 by default), with the same JSON serialisation. Before issue #15 this stage
// used DataDog's sketches-go and axiomhq's HyperLogLog (p=14, another hash): percentiles differed in 406 windows and
// distinct counts in 465 of 1,333 on one backlog. The shared vectors (tests/contract/vectors) hold both to one output.
package sketch

import (
	"errors"
	"math"
	"sort"
	"strconv"
)

// DDSketch is a relative-error quantile sketch (Masson, Rim, Lee, VLDB 2019): every quantile it returns is within
// alpha of a true value. Bins are counts per logarithmic bucket, so the sketch of a multiset does not depend on the
// insertion order.
type DDSketch struct {
	Alpha        float64
	gamma        float64
	logGamma     float64
	minIndexable float64
	maxBins      int
	pos, neg     map[int]int64
	zero, total  int64
	// sortedPos/sortedNeg: the bins' keys in order, kept until a key appears or goes (a revision reads them twice:
	// its quantiles and its changelog record; the TS DDSketch caches the same way).
	sortedPos, sortedNeg []int
}

// DDSketchJSON is the serialised form, the TS DDSketch.toJSON: bins as [key, count] sorted by key.
type DDSketchJSON struct {
	A   float64    `json:"a"`
	Z   int64      `json:"z"`
	Pos [][2]int64 `json:"pos"`
	Neg [][2]int64 `json:"neg"`
}

// minNormal is 2^-1022, the smallest normal float64: magnitudes up to minNormal * gamma count as zero (below it the
// powers of gamma are subnormal and lose precision; the TS DDSketch does the same).
const minNormal = 2.2250738585072014e-308

// MaxBins caps a sketch per sign; beyond it the lowest bins collapse into the lowest kept one.
const MaxBins = 2048

// NewDDSketch returns an empty sketch; alpha must be in (0, 1).
func NewDDSketch(alpha float64) (*DDSketch, error) {
	if !(alpha > 0 && alpha < 1) {
		return nil, errors.New("alpha must be in (0, 1)")
	}
	gamma := (1 + alpha) / (1 - alpha)
	return &DDSketch{Alpha: alpha, gamma: gamma, logGamma: math.Log(gamma), minIndexable: minNormal * gamma, maxBins: MaxBins, pos: map[int]int64{}, neg: map[int]int64{}}, nil
}

// Count is the number of values added.
func (s *DDSketch) Count() int64 { return s.total }

// Add folds a finite value in; NaN and infinities are refused (validation rejects them before).
func (s *DDSketch) Add(v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("DDSketch accepts finite values only")
	}
	switch {
	case v > s.minIndexable:
		s.bump(s.pos, s.key(v), 1)
	case v < -s.minIndexable:
		s.bump(s.neg, s.key(-v), 1)
	default:
		s.zero++
	}
	s.total++
	return nil
}

// key is the bucket k with gamma^(k-1) < v <= gamma^k, powers by PowInt: the logarithm only proposes k (Go's and
// V8's logs may differ in the last bit), the comparison decides (the TS DDSketch.key).
func (s *DDSketch) key(v float64) int {
	k := int(math.Ceil(math.Log(v) / s.logGamma))
	for v > PowInt(s.gamma, k) {
		k++
	}
	for v <= PowInt(s.gamma, k-1) {
		k--
	}
	return k
}

// value is the midpoint (in relative terms) of bucket k = (gamma^(k-1), gamma^k]: gamma^(k-1) * 2 gamma / (1 + gamma),
// from the lower bound so a bucket near MaxFloat64 stays finite, capped at MaxFloat64 (the TS DDSketch.value). Powers by
// binary exponentiation: IEEE multiplication is exactly rounded, so Go and V8 get the same bits (their pows need not).
func (s *DDSketch) value(k int) float64 {
	return math.Min(PowInt(s.gamma, k-1)*((2*s.gamma)/(1+s.gamma)), math.MaxFloat64)
}

// PowInt is x^n by binary exponentiation (n < 0: (1/x)^-n, so tiny buckets stay subnormal instead of 1/Inf = 0), the
// same operations in the same order as the TS powInt.
func PowInt(x float64, n int) float64 {
	if n < 0 {
		return PowInt(1/x, -n)
	}
	result, base := 1.0, x
	for n > 0 {
		if n&1 == 1 {
			result *= base
		}
		base *= base
		n >>= 1
	}
	return result
}

func (s *DDSketch) bump(bins map[int]int64, k int, n int64) {
	if _, ok := bins[k]; !ok {
		s.sortedPos, s.sortedNeg = nil, nil
	}
	bins[k] += n
	if len(bins) <= s.maxBins {
		return
	}
	keys := sortedKeys(bins)
	keep := keys[len(keys)-s.maxBins]
	var moved int64
	for _, low := range keys {
		if low >= keep {
			break
		}
		moved += bins[low]
		delete(bins, low)
	}
	bins[keep] += moved
}

func sortedKeys(bins map[int]int64) []int {
	keys := make([]int, 0, len(bins))
	for k := range bins {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	return keys
}

// Quantiles answers several quantiles (0..1) in one pass, NaN each when empty: the lower-rank convention of the paper,
// most negative values first (the TS DDSketch.quantiles).
func (s *DDSketch) Quantiles(qs ...float64) []float64 {
	out := make([]float64, len(qs))
	for i := range out {
		out[i] = math.NaN()
	}
	if s.total == 0 {
		return out
	}
	type want struct {
		i    int
		rank float64
	}
	var order []want
	for i, q := range qs {
		if q >= 0 && q <= 1 {
			order = append(order, want{i, q * float64(s.total-1)})
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return order[a].rank < order[b].rank })
	next := 0
	var seen int64
	answer := func(v float64) {
		for next < len(order) && float64(seen) > order[next].rank {
			out[order[next].i] = v
			next++
		}
	}
	pos, neg := s.sorted()
	for i := len(neg) - 1; i >= 0; i-- {
		seen += s.neg[neg[i]]
		answer(-s.value(neg[i]))
		if next == len(order) {
			return out
		}
	}
	seen += s.zero
	answer(0)
	if next == len(order) {
		return out
	}
	for _, k := range pos {
		seen += s.pos[k]
		answer(s.value(k))
		if next == len(order) {
			return out
		}
	}
	last := 0
	if len(pos) > 0 {
		last = pos[len(pos)-1]
	}
	for ; next < len(order); next++ {
		out[order[next].i] = s.value(last)
	}
	return out
}

// sorted returns both signs' keys in ascending order (cached until a key appears or goes; do not modify).
func (s *DDSketch) sorted() (pos, neg []int) {
	if s.sortedPos == nil {
		s.sortedPos = sortedKeys(s.pos)
	}
	if s.sortedNeg == nil {
		s.sortedNeg = sortedKeys(s.neg)
	}
	return s.sortedPos, s.sortedNeg
}

// JSON is the serialised sketch (the TS toJSON format).
func (s *DDSketch) JSON() DDSketchJSON {
	pos, neg := s.sorted()
	bins := func(keys []int, m map[int]int64) [][2]int64 {
		out := make([][2]int64, 0, len(keys))
		for _, k := range keys {
			out = append(out, [2]int64{int64(k), m[k]})
		}
		return out
	}
	return DDSketchJSON{A: s.Alpha, Z: s.zero, Pos: bins(pos, s.pos), Neg: bins(neg, s.neg)}
}

// AppendJSON appends JSON() in its JSON form to b without building it.
func (s *DDSketch) AppendJSON(b []byte) []byte {
	pos, neg := s.sorted()
	b = strconv.AppendFloat(append(b, `{"a":`...), s.Alpha, 'g', -1, 64)
	b = strconv.AppendInt(append(b, `,"z":`...), s.zero, 10)
	b = appendBins(append(b, `,"pos":`...), pos, s.pos)
	b = appendBins(append(b, `,"neg":`...), neg, s.neg)
	return append(b, '}')
}

func appendBins(b []byte, keys []int, m map[int]int64) []byte {
	b = append(b, '[')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(append(b, '['), int64(k), 10)
		b = strconv.AppendInt(append(b, ','), m[k], 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

// DDSketchFromJSON restores what JSON (or the TS toJSON) wrote.
func DDSketchFromJSON(j DDSketchJSON) (*DDSketch, error) {
	s, err := NewDDSketch(j.A)
	if err != nil {
		return nil, err
	}
	s.zero, s.total = j.Z, j.Z
	for _, b := range j.Pos {
		s.pos[int(b[0])] = b[1]
		s.total += b[1]
	}
	for _, b := range j.Neg {
		s.neg[int(b[0])] = b[1]
		s.total += b[1]
	}
	return s, nil
}

// AppendJSON appends the TS toJSON form to b, what encoding/json would write, without its reflection (a sixth of the
// stage's CPU: every changed window's state goes to the changelog on every flush). Not a MarshalJSON: encoding/json
// validates and compacts a Marshaler's output again, which costs more than it saves.
func (j DDSketchJSON) AppendJSON(b []byte) []byte {
	b = append(b, `{"a":`...)
	b = strconv.AppendFloat(b, j.A, 'g', -1, 64)
	b = append(b, `,"z":`...)
	b = strconv.AppendInt(b, j.Z, 10)
	b = append(b, `,"pos":`...)
	b = appendPairs(b, j.Pos)
	b = append(b, `,"neg":`...)
	b = appendPairs(b, j.Neg)
	return append(b, '}')
}

func appendPairs(b []byte, pairs [][2]int64) []byte {
	b = append(b, '[')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = strconv.AppendInt(b, p[0], 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, p[1], 10)
		b = append(b, ']')
	}
	return append(b, ']')
}

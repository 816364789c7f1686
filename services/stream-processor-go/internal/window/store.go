package window

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	analyticsv1 "github.com/tessera/tessera/services/stream-processor-go/gen/tessera/analytics/v1"
	"github.com/tessera/tessera/services/stream-processor-go/internal/sketch"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Config is the windowing policy shared by every partition's Store.
type Config struct {
	Windows         []Spec
	Dimensions      []string // attribute keys to split by, besides the total
	DistinctKey     string   // attribute whose distinct values the HyperLogLog counts
	AllowedLateness time.Duration
	WatermarkDelay  time.Duration // watermark = max event time seen - delay
	IdleTimeout     time.Duration // after this long without records the watermark follows the wall clock
	DedupHorizon    time.Duration // event ids are remembered this long past their event time
	// ClosedRetention keeps a final window (event time) so too-late events can still be counted on it.
	ClosedRetention time.Duration
	Producer        string
	// Sketches: DDSketch alpha and HyperLogLog precision (zero values: the TS stage's defaults, 0.01 and 11).
	Sketches Sketches
}

// Event is a validated input event, as the store needs it (the TS stage's NormalizedEvent).
type Event struct {
	ID, Tenant, Stream string
	TimeMs             int64
	// Measurements: what it contributes, one per metric (an analytics event has one, a payment event up to three).
	Measurements []Measurement
	Attributes   map[string]string
	// Dimensions split it instead of Config.Dimensions when set (payment metrics are per currency only).
	Dimensions []string
}

// Measurement is one metric's value in an event.
type Measurement struct {
	Metric string
	Value  float64
}

// Outcome says what Add did with an event.
type Outcome int

const (
	// Aggregated: the event landed in at least one window.
	Aggregated Outcome = iota
	// Duplicate: its id was seen within the dedup horizon; ignored.
	Duplicate
	// Late: at least one window it belongs to is past its allowed lateness (counted as late there, on the window
	// if it is still retained); it is aggregated into the others. The TS stage's rule (partition-state.ts apply).
	Late
)

// LateFor says which windows an event came too late for: how many (window and dimension) and the first one's key.
type LateFor struct {
	Windows int
	First   string
}

// StateRecord is one changelog entry; a nil Value deletes the key (compaction tombstone).
type StateRecord struct {
	Key   string
	Value []byte
}

// Output is what one Flush produces, to be written in the same Kafka transaction.
type Output struct {
	Aggregates []*analyticsv1.WindowAggregate
	// Closed are the aggregates (also in Aggregates) of windows this flush finalised: their first final
	// revision. A later final revision (a late event counted on a closed window) is not a close.
	Closed []*analyticsv1.WindowAggregate
	State  []StateRecord
}

const (
	noTime       = math.MinInt64
	stateWindow  = "win|"
	stateEventID = "id|"
	stateMarks   = "marks"
)

// Store is the window state of ONE source partition: a partition's events (keyed by tenant/stream)
// never touch another partition's windows, so each Store can be restored and dropped on its own.
type Store struct {
	cfg          *Config
	windows      map[Key]*Accumulator
	dirty        map[Key]bool
	seen         map[string]int64 // dedup id -> expiry (event time ms)
	idChanges    map[string]bool  // ids added (true) or expired (false) since the last flush
	maxEventMs   int64
	watermarkMs  int64
	marksChanged bool
	lastArrival  time.Time
	pending      map[string][]byte // window records read by Restore, decoded by FinishRestore
}

// NewStore returns an empty store; now starts the idleness clock.
func NewStore(cfg *Config, now time.Time) *Store {
	return &Store{
		cfg: cfg, windows: map[Key]*Accumulator{}, dirty: map[Key]bool{}, seen: map[string]int64{}, idChanges: map[string]bool{},
		maxEventMs: noTime, watermarkMs: noTime, lastArrival: now,
	}
}

// Watermark is the current watermark (epoch ms), math.MinInt64 before the first event.
func (s *Store) Watermark() int64 { return s.watermarkMs }

// OpenWindows is the number of windows held (open or retained final).
func (s *Store) OpenWindows() int { return len(s.windows) }

func (s *Store) advanceTo(wm int64) {
	if wm > s.watermarkMs {
		s.watermarkMs = wm
		s.marksChanged = true
	}
}

// Restored marks the store as just rebuilt from its changelog at now: idleness counts from here, not from the
// store's creation before the restore read the changelog (a restore slower than IdleTimeout made a restarted
// processor declare itself idle at once, close every window and count its whole backlog as too late).
func (s *Store) Restored(now time.Time) {
	s.lastArrival = now
}

// Add folds an event into every window, dimension and shape it belongs to.
func (s *Store) Add(e Event, now time.Time) (Outcome, LateFor) {
	s.lastArrival = now
	idKey := e.Tenant + "|" + e.Stream + "|" + e.ID
	if _, dup := s.seen[idKey]; dup {
		return Duplicate, LateFor{}
	}
	s.seen[idKey] = e.TimeMs + s.cfg.DedupHorizon.Milliseconds()
	s.idChanges[idKey] = true
	if e.TimeMs > s.maxEventMs {
		s.maxEventMs = e.TimeMs
		s.marksChanged = true
	}
	s.advanceTo(s.maxEventMs - s.cfg.WatermarkDelay.Milliseconds())

	lateness := s.cfg.AllowedLateness.Milliseconds()
	// Hashed once per event, not per window (an event lands in ~24): the TS stage's HyperLogLog.hashOf.
	var distinct *sketch.Hash
	if d := e.Attributes[s.cfg.DistinctKey]; d != "" {
		h := sketch.HashOf(d)
		distinct = &h
	}
	var late LateFor
	dims := s.dimensionsOf(e)
	// The TS stage's order (window spec, start, measurement, dimension): the first too-late window named is the same.
	for _, spec := range s.cfg.Windows {
		for _, start := range spec.Starts(e.TimeMs) {
			for _, m := range e.Measurements {
				for _, dim := range dims {
					k := Key{Tenant: e.Tenant, Stream: e.Stream, Metric: m.Metric, DimKey: dim[0], DimValue: dim[1],
						SizeSec: int64(spec.Size / time.Second), SlideSec: int64(spec.Slide / time.Second), StartMs: start}
					acc := s.windows[k]
					if s.watermarkMs >= k.EndMs()+lateness {
						if late.Windows == 0 {
							late.First = k.String()
						}
						late.Windows++
						if acc != nil { // still retained: record the late event on the final window
							acc.Late++
							s.dirty[k] = true
						}
						continue
					}
					if acc == nil {
						acc = newAccumulator(s.cfg.Sketches)
						s.windows[k] = acc
					}
					acc.Add(m.Value, distinct, e.TimeMs)
					s.dirty[k] = true
				}
			}
		}
	}
	if late.Windows > 0 {
		return Late, late
	}
	return Aggregated, late
}

// dimensionsOf is the total ("", "") plus each of its dimensions (the event's own, else the configured) it carries.
func (s *Store) dimensionsOf(e Event) [][2]string {
	dims := [][2]string{{"", ""}}
	keys := e.Dimensions
	if keys == nil {
		keys = s.cfg.Dimensions
	}
	for _, d := range keys {
		if v, ok := e.Attributes[d]; ok && v != "" {
			dims = append(dims, [2]string{d, v})
		}
	}
	return dims
}

// Flush advances the watermark for idleness, finalizes windows past their lateness, evicts expired
// state, and returns a new revision of every window that changed plus the changelog records.
func (s *Store) Flush(now time.Time) Output {
	if now.Sub(s.lastArrival) >= s.cfg.IdleTimeout {
		s.advanceTo(now.UnixMilli() - s.cfg.WatermarkDelay.Milliseconds())
	}
	lateness := s.cfg.AllowedLateness.Milliseconds()
	var out Output
	var evicted []Key
	closedNow := map[Key]bool{}
	for k, acc := range s.windows {
		closeAt := k.EndMs() + lateness
		if !acc.Final && s.watermarkMs >= closeAt {
			acc.Final = true
			s.dirty[k] = true
			closedNow[k] = true
		}
		if acc.Final && !s.dirty[k] && s.watermarkMs >= closeAt+s.cfg.ClosedRetention.Milliseconds() {
			evicted = append(evicted, k)
		}
	}
	for _, k := range evicted {
		delete(s.windows, k)
		out.State = append(out.State, StateRecord{Key: stateWindow + k.String()})
	}

	// Each key's window_key string once (it orders the output, names the aggregate and its changelog record).
	type named struct {
		k    Key
		name string
	}
	keys := make([]named, 0, len(s.dirty))
	for k := range s.dirty {
		keys = append(keys, named{k, k.String()})
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
	computedAt := timestamppb.New(now)
	for _, kn := range keys {
		k := kn.k
		acc := s.windows[k]
		acc.Revision++
		agg := s.aggregate(k, kn.name, acc, computedAt)
		out.Aggregates = append(out.Aggregates, agg)
		if closedNow[k] {
			out.Closed = append(out.Closed, agg)
		}
		out.State = append(out.State, StateRecord{Key: stateWindow + kn.name, Value: mustWindowRecord(k, acc)})
	}
	clear(s.dirty)

	for id, exp := range s.seen {
		if exp <= s.watermarkMs {
			delete(s.seen, id)
			if s.idChanges[id] {
				delete(s.idChanges, id) // added and expired within one flush: never written
			} else {
				s.idChanges[id] = false
			}
		}
	}
	for id, added := range s.idChanges {
		rec := StateRecord{Key: stateEventID + id}
		if added {
			rec.Value = []byte(strconv.FormatInt(s.seen[id], 10))
		}
		out.State = append(out.State, rec)
	}
	clear(s.idChanges)
	if s.marksChanged {
		b, _ := json.Marshal(marks{MaxEventMs: s.maxEventMs, WatermarkMs: s.watermarkMs})
		out.State = append(out.State, StateRecord{Key: stateMarks, Value: b})
		s.marksChanged = false
	}
	return out
}

func (s *Store) aggregate(k Key, windowKey string, acc *Accumulator, computedAt *timestamppb.Timestamp) *analyticsv1.WindowAggregate {
	agg := &analyticsv1.WindowAggregate{
		TenantId: k.Tenant, StreamId: k.Stream, Metric: k.Metric, DimensionKey: k.DimKey, DimensionValue: k.DimValue,
		WindowStart: timestamppb.New(time.UnixMilli(k.StartMs)), WindowEnd: timestamppb.New(time.UnixMilli(k.EndMs())),
		WindowSizeSeconds: k.SizeSec, WindowSlideSeconds: k.SlideSec,
		Count: acc.Count, Sum: acc.Sum, LateEvents: acc.Late, Revision: acc.Revision, Final: acc.Final,
		ComputedAt: computedAt, WindowKey: windowKey, Producer: s.cfg.Producer,
	}
	if acc.Count > 0 {
		agg.Min, agg.Max = acc.Min, acc.Max
		q := acc.Quantiles(0.5, 0.95, 0.99)
		agg.P50Approx, agg.P95Approx, agg.P99Approx = q[0], q[1], q[2]
		agg.DistinctCount = acc.Distinct()
	}
	if ms, ok := acc.MaxEventTime(); ok {
		agg.MaxEventTime = timestamppb.New(time.UnixMilli(ms))
	}
	return agg
}

type marks struct {
	MaxEventMs  int64 `json:"maxEventMs"`
	WatermarkMs int64 `json:"watermarkMs"`
}

type windowRecord struct {
	Key   Key             `json:"key"`
	State json.RawMessage `json:"state"`
}

func mustWindowRecord(k Key, acc *Accumulator) []byte {
	key, err := json.Marshal(k)
	if err != nil {
		panic(fmt.Sprintf("encoding window key: %v", err)) // strings and integers always encode
	}
	b := append(append(append(make([]byte, 0, 512), `{"key":`...), key...), `,"state":`...)
	return append(acc.appendState(b), '}')
}

// FinishRestore decodes the window records Restore collected (only the last one per key matters); legacy counts the
// windows restored from a version-1 record (sketches restarted empty, see stateVersion).
func (s *Store) FinishRestore() (legacy int, err error) {
	for key, value := range s.pending {
		var rec windowRecord
		if err := json.Unmarshal(value, &rec); err != nil {
			return legacy, fmt.Errorf("state %q: %w", key, err)
		}
		acc, old, err := UnmarshalAccumulator(rec.State, s.cfg.Sketches)
		if err != nil {
			return legacy, fmt.Errorf("state %q: %w", key, err)
		}
		if old {
			legacy++
		}
		s.windows[rec.Key] = acc
	}
	s.pending = nil
	return legacy, nil
}

// Restore applies one changelog record (in log order; a later record for a key replaces an earlier one).
func (s *Store) Restore(key string, value []byte) error {
	switch {
	case key == stateMarks:
		if len(value) == 0 { // tombstone
			return nil
		}
		var m marks
		if err := json.Unmarshal(value, &m); err != nil {
			return fmt.Errorf("state %q: %w", key, err)
		}
		s.maxEventMs, s.watermarkMs = m.MaxEventMs, m.WatermarkMs
	case strings.HasPrefix(key, stateEventID):
		id := strings.TrimPrefix(key, stateEventID)
		if len(value) == 0 { // tombstone
			delete(s.seen, id)
			return nil
		}
		exp, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil {
			return fmt.Errorf("state %q: %w", key, err)
		}
		s.seen[id] = exp
	case strings.HasPrefix(key, stateWindow):
		if s.pending == nil {
			s.pending = map[string][]byte{}
		}
		if len(value) == 0 { // tombstone
			delete(s.pending, key)
		} else {
			s.pending[key] = value
		}
	default:
		return fmt.Errorf("state: unknown key %q", key)
	}
	return nil
}

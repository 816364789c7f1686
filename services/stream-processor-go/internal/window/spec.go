// Package window holds the event-time windowing of the aggregate stage: window assignment, the
// per-window accumulator (count/sum/min/max, DDSketch percentiles, HyperLogLog distinct count) and the
// per-partition store that applies the watermark and allowed lateness. It has no Kafka dependency.
package window

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Spec is one window shape; Slide == Size means tumbling, Slide < Size hopping.
type Spec struct {
	Size  time.Duration
	Slide time.Duration
}

// ParseSpecs parses "10s,60s,60s/10s" (size[/slide], Go durations, whole seconds).
func ParseSpecs(s string) ([]Spec, error) {
	var specs []Spec
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		sizeStr, slideStr, hopping := strings.Cut(part, "/")
		size, err := time.ParseDuration(sizeStr)
		if err != nil {
			return nil, fmt.Errorf("window %q: %w", part, err)
		}
		slide := size
		if hopping {
			if slide, err = time.ParseDuration(slideStr); err != nil {
				return nil, fmt.Errorf("window %q: %w", part, err)
			}
		}
		spec := Spec{Size: size, Slide: slide}
		if err := spec.validate(); err != nil {
			return nil, fmt.Errorf("window %q: %w", part, err)
		}
		specs = append(specs, spec)
	}
	if len(specs) == 0 {
		return nil, fmt.Errorf("no window in %q", s)
	}
	return specs, nil
}

func (s Spec) validate() error {
	switch {
	case s.Size <= 0 || s.Slide <= 0:
		return fmt.Errorf("size and slide must be positive")
	case s.Size%time.Second != 0 || s.Slide%time.Second != 0:
		return fmt.Errorf("size and slide must be whole seconds (the window key carries seconds)")
	case s.Slide > s.Size:
		return fmt.Errorf("slide larger than size would leave gaps")
	case s.Size%s.Slide != 0:
		return fmt.Errorf("size must be a multiple of slide")
	}
	return nil
}

// Starts returns the start (epoch ms) of every window of this shape that contains t (epoch ms),
// oldest first: one for tumbling, Size/Slide for hopping.
func (s Spec) Starts(tMs int64) []int64 {
	size, slide := s.Size.Milliseconds(), s.Slide.Milliseconds()
	last := floorDiv(tMs, slide) * slide
	n := size / slide
	starts := make([]int64, 0, n)
	for start := last - (n-1)*slide; start <= last; start += slide {
		starts = append(starts, start)
	}
	return starts
}

// floorDiv rounds towards minus infinity, so times before 1970 still land in the right window.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Key identifies one window of one tenant/stream/metric/dimension value.
type Key struct {
	Tenant, Stream, Metric string
	DimKey, DimValue       string
	SizeSec, SlideSec      int64
	StartMs                int64
}

// EndMs is the exclusive window end.
func (k Key) EndMs() int64 { return k.StartMs + k.SizeSec*1000 }

// String is the window_key shared with the TypeScript processor and the insights read model:
// tenant|stream|metric|dimKey=dimValue|size|slide|startEpochMs.
func (k Key) String() string {
	b := make([]byte, 0, len(k.Tenant)+len(k.Stream)+len(k.Metric)+len(k.DimKey)+len(k.DimValue)+32)
	b = append(append(append(append(append(append(append(append(append(b, k.Tenant...), '|'), k.Stream...), '|'), k.Metric...), '|'), k.DimKey...), '='), k.DimValue...)
	b = strconv.AppendInt(append(b, '|'), k.SizeSec, 10)
	b = strconv.AppendInt(append(b, '|'), k.SlideSec, 10)
	b = strconv.AppendInt(append(b, '|'), k.StartMs, 10)
	return string(b)
}

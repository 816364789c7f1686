package sketch

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// The shared vectors (tests/contract/vectors/sketches.json, written by the TS reference): this package must give the
// same bits for every input, and read and write the same JSON. Issue #15.
type vectors struct {
	Quantiles []float64 `json:"quantiles"`
	DDSketch  []struct {
		Name      string       `json:"name"`
		Alpha     float64      `json:"alpha"`
		Values    []float64    `json:"values"`
		Quantiles []float64    `json:"quantiles"`
		JSON      DDSketchJSON `json:"json"`
	} `json:"ddsketch"`
	HyperLogLog []struct {
		Name      string          `json:"name"`
		Precision int             `json:"precision"`
		Prefix    string          `json:"prefix"`
		N         int             `json:"n"`
		Estimate  int64           `json:"estimate"`
		JSON      HyperLogLogJSON `json:"json"`
	} `json:"hyperloglog"`
}

func loadVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "..", "tests", "contract", "vectors", "sketches.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.DDSketch) < 7 || len(v.HyperLogLog) < 9 {
		t.Fatalf("too few vectors: %d DDSketch, %d HyperLogLog", len(v.DDSketch), len(v.HyperLogLog))
	}
	return v
}

func TestDDSketchReproducesTheSharedVectors(t *testing.T) {
	v := loadVectors(t)
	for _, c := range v.DDSketch {
		t.Run(c.Name, func(t *testing.T) {
			s, err := NewDDSketch(c.Alpha)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range c.Values {
				if err := s.Add(x); err != nil {
					t.Fatal(err)
				}
			}
			got := s.Quantiles(v.Quantiles...)
			for i, want := range c.Quantiles {
				if math.Float64bits(got[i]) != math.Float64bits(want) {
					t.Errorf("q%v = %v (%x), reference %v (%x)", v.Quantiles[i], got[i], math.Float64bits(got[i]), want, math.Float64bits(want))
				}
			}
			if !reflect.DeepEqual(s.JSON(), c.JSON) {
				t.Errorf("bins differ from the reference")
			}
			if want, _ := json.Marshal(c.JSON); string(s.AppendJSON(nil)) != string(want) {
				t.Errorf("AppendJSON %s, reference JSON %s", s.AppendJSON(nil), want)
			}
			restored, err := DDSketchFromJSON(c.JSON)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(restored.Quantiles(v.Quantiles...)) != fmt.Sprint(got) {
				t.Errorf("restored from the reference JSON: %v, want %v", restored.Quantiles(v.Quantiles...), got)
			}
		})
	}
}

func TestHyperLogLogReproducesTheSharedVectors(t *testing.T) {
	for _, c := range loadVectors(t).HyperLogLog {
		t.Run(c.Name, func(t *testing.T) {
			h, err := NewHyperLogLog(c.Precision)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < c.N; i++ {
				h.Add(fmt.Sprint(c.Prefix, i))
			}
			if got := h.Estimate(); got != c.Estimate {
				t.Errorf("estimate %d, reference %d", got, c.Estimate)
			}
			if !reflect.DeepEqual(h.JSON(), c.JSON) {
				t.Errorf("registers differ from the reference")
			}
			if want, _ := json.Marshal(c.JSON); string(h.AppendJSON(nil)) != string(want) {
				t.Errorf("AppendJSON %s, reference JSON %s", h.AppendJSON(nil), want)
			}
			restored, err := HyperLogLogFromJSON(c.JSON)
			if err != nil {
				t.Fatal(err)
			}
			if restored.Estimate() != c.Estimate {
				t.Errorf("restored estimate %d, reference %d", restored.Estimate(), c.Estimate)
			}
		})
	}
}

func TestPowIntMatchesRepeatedMultiplicationBounds(t *testing.T) {
	g := 1.01 / 0.99
	if PowInt(g, 0) != 1 || PowInt(g, 1) != g || PowInt(g, -1) != 1/g {
		t.Fatal("small powers")
	}
	if v := PowInt(g, -35688); !(v > 0 && v < 1e-300) {
		t.Fatalf("tiny bucket underflowed to %v", v)
	}
}

// The hand-written AppendJSON must write what encoding/json would (and what the TS toJSON does).
func TestJSONEncodersMatchReflection(t *testing.T) {
	for _, c := range loadVectors(t).DDSketch {
		got := c.JSON.AppendJSON(nil)
		want, _ := json.Marshal(c.JSON)
		if string(got) != string(want) {
			t.Fatalf("%s: %s != %s", c.Name, got, want)
		}
	}
	for _, c := range loadVectors(t).HyperLogLog {
		got := c.JSON.AppendJSON(nil)
		want, _ := json.Marshal(c.JSON)
		if string(got) != string(want) {
			t.Fatalf("%s: %s != %s", c.Name, got, want)
		}
	}
}
